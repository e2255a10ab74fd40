import type { Sandbox, SandboxFactory } from './ports.js';

/**
 * Experiment sandboxes of one run: up to `size` containers, opened when first needed and reused, so parallel
 * experiments each get their own and sequential ones share one.
 */
export class SandboxPool {
  private readonly idle: Sandbox[] = [];
  private readonly all: Sandbox[] = [];
  private readonly waiting: ((sandbox: Sandbox) => void)[] = [];
  private opening = 0;
  /** Image of the experiment sandboxes, kept for the reproducibility note and manifest. */
  imageId = '';

  constructor(
    private readonly factory: SandboxFactory,
    private readonly size: number,
    private readonly signal: AbortSignal,
  ) {}

  async acquire(): Promise<Sandbox> {
    const free = this.idle.pop();
    if (free) return free;
    if (this.all.length + this.opening < this.size) {
      this.opening++;
      try {
        const sandbox = await this.factory.open('python', this.signal);
        this.all.push(sandbox);
        this.imageId = sandbox.imageId;
        return sandbox;
      } finally {
        this.opening--;
      }
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(sandbox: Sandbox): void {
    const next = this.waiting.shift();
    if (next) next(sandbox);
    else this.idle.push(sandbox);
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.all.map((s) => s.close().catch(() => undefined)));
    this.all.length = 0;
    this.idle.length = 0;
  }
}
