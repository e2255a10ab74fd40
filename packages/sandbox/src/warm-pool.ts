import type Docker from 'dockerode';
import { DockerSandbox } from './docker-sandbox.js';
import type { ContainerIdentity, SandboxLimits, SandboxRuntime } from './sandbox-limits.js';

/** After a failed start the next try waits this long, doubling up to WARM_MAX_BACKOFF_MS (Docker down: no spinning). */
const WARM_MIN_BACKOFF_MS = 1000;
const WARM_MAX_BACKOFF_MS = 60_000;
/**
 * A take's replacement is started this much later: starting a container is the engine's heaviest work, and the run's
 * first program, which just took the warm one, should not compete with it.
 */
const REFILL_AFTER_TAKE_MS = 2000;
/** How long `close` waits for a container being started. */
const CLOSE_WAIT_MS = 10_000;

export interface WarmPoolOptions {
  /** Idle sandboxes kept ready; 0 turns the pool off. */
  size: number;
  /** An idle sandbox older than this is replaced by a new one; 0: kept until taken. */
  idleTtlMs: number;
  deployment: string;
  workerId: string;
  runtime: SandboxRuntime;
  /** What is kept warm until a run asks for something else: the built-in image with a run's default limits. */
  image: string;
  limits: SandboxLimits;
  /** Told about every take: whether a warm sandbox was there (hit) or the run has to start one (miss). */
  onTake?: (hit: boolean) => void;
  /** Told when starting a pooled sandbox failed, and how long the pool waits before it tries again. */
  onStartFailed?: (err: Error, retryInMs: number) => void;
}

interface Idle {
  sandbox: DockerSandbox;
  key: string;
  startedAt: number;
}

/**
 * A worker's warm experiment sandboxes: containers started ahead of time with exactly the container spec a run would
 * give them (`containerSpec`: same image, limits, runtime and hardening; no input mounts), idle until a run takes one.
 * A run takes a fresh one (`take`) and closes it when it ends like any other sandbox: a pooled sandbox is used by one
 * run only, never returned. The pool refills in the background, one container at a time, backing off while Docker
 * fails, and replaces idle ones older than the TTL. At most `size` idle containers exist (plus the one being started).
 *
 * The containers carry this deployment's and this worker's labels and `LABEL_POOL`, so the reaper of this deployment
 * removes them once the worker is gone (killed) and other deployments' reapers leave them alone.
 */
export class WarmPool {
  private readonly idle: Idle[] = [];
  /** Pooled containers handed to runs, by container id: the reaper keeps them while their run is live. */
  private readonly handedOut = new Map<string, string>();
  /** What the refill starts: the shape the last run asked for. */
  private wanted: { image: string; limits: SandboxLimits; key: string };
  private refilling: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private timerAt = 0;
  private backoffMs = 0;
  private closed = false;

  constructor(
    private readonly docker: Docker,
    private readonly options: WarmPoolOptions,
  ) {
    this.wanted = { image: options.image, limits: options.limits, key: specKey(options.image, options.limits) };
  }

  get enabled(): boolean {
    return this.options.size > 0;
  }

  /** Idle sandboxes ready now. */
  get idleCount(): number {
    return this.idle.length;
  }

  /** Starts filling the pool (in the background). */
  start(): void {
    this.schedule(0);
  }

  /**
   * A fresh sandbox of this image and limits for the run `identity` names, or null when none is warm (the caller
   * starts one itself). Either way the pool starts a replacement in the background, shortly after.
   */
  async take(image: string, limits: SandboxLimits, identity: ContainerIdentity): Promise<DockerSandbox | null> {
    if (!this.enabled || this.closed) return null;
    const key = specKey(image, limits);
    if (key !== this.wanted.key) this.wanted = { image, limits, key };
    for (;;) {
      const at = this.idle.findIndex((entry) => entry.key === key && !this.expired(entry));
      if (at < 0) break;
      const [entry] = this.idle.splice(at, 1);
      const sandbox = entry!.sandbox;
      if (!sandbox.isPristine) {
        await sandbox.close();
        continue;
      }
      sandbox.claim(identity);
      this.handedOut.set(sandbox.containerId!, identity.runId);
      this.options.onTake?.(true);
      this.schedule(REFILL_AFTER_TAKE_MS);
      return sandbox;
    }
    this.options.onTake?.(false);
    this.schedule(REFILL_AFTER_TAKE_MS);
    return null;
  }

  /**
   * Whether the reaper must leave this pooled container of this worker alone: it is idle in the pool, or a run that
   * `isLive` says is still running took it.
   */
  holds(containerId: string, isLive: (runId: string) => boolean): boolean {
    if (this.idle.some((entry) => entry.sandbox.containerId === containerId)) return true;
    // A container being started is not in `idle` yet: while a refill runs, leave unknown pooled containers be.
    if (this.refilling) return true;
    const runId = this.handedOut.get(containerId);
    if (runId !== undefined && isLive(runId)) return true;
    this.handedOut.delete(containerId);
    return false;
  }

  /** Forgets the containers a run took (it ended and removed them). */
  release(runId: string): void {
    for (const [id, owner] of this.handedOut) if (owner === runId) this.handedOut.delete(id);
  }

  /** Stops refilling and removes every idle container (the worker's shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // A start under way is waited for (then removed) only so long: with Docker down it could take the client's
    // whole retry window, and a container it leaves is this deployment's reapers' once the worker is gone.
    await Promise.race([this.refilling, new Promise((resolve) => setTimeout(resolve, CLOSE_WAIT_MS).unref())]);
    await Promise.all(this.idle.splice(0).map((entry) => entry.sandbox.close()));
  }

  private expired(entry: Idle): boolean {
    return this.options.idleTtlMs > 0 && Date.now() - entry.startedAt >= this.options.idleTtlMs;
  }

  private schedule(delayMs: number): void {
    if (this.closed || !this.enabled) return;
    // One timer, set for the earliest moment anyone asked for.
    const at = Date.now() + delayMs;
    if (this.timer && this.timerAt <= at) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = setTimeout(() => {
      this.timer = null;
      // A refill under way may have passed the point this request needed: look again once it is done.
      if (this.refilling) void this.refilling.then(() => this.schedule(0));
      else
        this.refilling = this.refill().finally(() => {
          this.refilling = null;
        });
    }, delayMs);
    this.timer.unref();
  }

  private async refill(): Promise<void> {
    // Idle ones past their TTL, or of a shape no run asks for now, make room for what is wanted.
    const stale = this.idle.filter((entry) => this.expired(entry) || entry.key !== this.wanted.key);
    for (const entry of stale) {
      this.idle.splice(this.idle.indexOf(entry), 1);
      await entry.sandbox.close();
    }
    while (!this.closed && this.idle.length < this.options.size) {
      const { image, limits, key } = this.wanted;
      let sandbox: DockerSandbox;
      try {
        sandbox = await DockerSandbox.create(this.docker, image, limits, this.poolIdentity(), this.options.runtime);
      } catch (err) {
        this.backoffMs = Math.min(WARM_MAX_BACKOFF_MS, Math.max(WARM_MIN_BACKOFF_MS, this.backoffMs * 2));
        this.options.onStartFailed?.(err as Error, this.backoffMs);
        this.schedule(this.backoffMs);
        return;
      }
      this.backoffMs = 0;
      if (this.closed) {
        await sandbox.close();
        return;
      }
      this.idle.push({ sandbox, key, startedAt: Date.now() });
    }
    // Wake up when the oldest idle one expires.
    if (this.options.idleTtlMs > 0 && this.idle.length > 0) {
      const oldest = Math.min(...this.idle.map((entry) => entry.startedAt));
      this.schedule(Math.max(0, oldest + this.options.idleTtlMs - Date.now()) + 10);
    }
  }

  private poolIdentity(): ContainerIdentity {
    return {
      deployment: this.options.deployment,
      workerId: this.options.workerId,
      runId: '',
      attempt: 0,
      role: 'python',
      pooled: true,
    };
  }
}

function specKey(image: string, limits: SandboxLimits): string {
  return JSON.stringify([image, limits.cpus, limits.memoryMb, limits.pidsLimit, limits.workspaceMb, limits.tmpMb]);
}
