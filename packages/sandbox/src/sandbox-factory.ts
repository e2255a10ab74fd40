import type { Sandbox, SandboxFactory, SandboxKind } from '@autolab/engine';
import type Docker from 'dockerode';
import { DockerSandbox } from './docker-sandbox.js';
import { DEFAULT_LIMITS, type SandboxLimits, type SandboxRuntime } from './sandbox-limits.js';

export interface SandboxImages {
  python: string;
  latex: string;
}

/** Opens the sandboxes of one run; every container it opens carries the run's labels. */
export class DockerSandboxFactory implements SandboxFactory {
  private readonly open_: Set<DockerSandbox> = new Set();

  constructor(
    private readonly docker: Docker,
    private readonly images: SandboxImages,
    private readonly deployment: string,
    private readonly runId: string,
    private readonly workerId: string,
    private readonly limits: Partial<SandboxLimits> = {},
    private readonly runtime: SandboxRuntime = 'runc',
  ) {}

  async open(kind: SandboxKind): Promise<Sandbox> {
    // The latex sandbox compiles a document; it never needs the experiment's cpu or memory allowance.
    const limits: SandboxLimits =
      kind === 'latex'
        ? { ...DEFAULT_LIMITS, memoryMb: 1024, cpus: 1, workspaceMb: 256 }
        : { ...DEFAULT_LIMITS, ...this.limits };
    const sandbox = await DockerSandbox.create(
      this.docker,
      this.images[kind],
      limits,
      {
        deployment: this.deployment,
        runId: this.runId,
        role: kind,
        workerId: this.workerId,
      },
      this.runtime,
    );
    this.open_.add(sandbox);
    const close = sandbox.close.bind(sandbox);
    sandbox.close = async () => {
      this.open_.delete(sandbox);
      await close();
    };
    return sandbox;
  }

  /** Removes every container this factory opened and has not closed yet. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open_].map((s) => s.close()));
  }
}
