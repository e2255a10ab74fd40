import { hostname } from 'node:os';
import { isFinalStatus } from '@autolab/contracts';
import { type DockerClient, reapSandboxes, type WarmPool } from '@autolab/sandbox';
import type { CancelSignal, RunArchiver, RunStore, WorkerRegistry } from '@autolab/store';
import type { Logger } from 'pino';
import type { StopReason } from './run-outcome.js';
import { DOCKER_PING_TIMEOUT_MS } from './startup-checks.js';

const HEARTBEAT_MS = 5000;
/** Leftover containers (of workers that died) are looked for this often, not only at start. */
const REAP_INTERVAL_MS = 60_000;
const HEARTBEAT_TTL_MS = 15_000;

export interface UpkeepDeps {
  workerId: string;
  concurrency: number;
  deployment: string;
  eventsRetentionMs: number;
  docker: DockerClient;
  runs: RunStore;
  registry: WorkerRegistry;
  cancel: CancelSignal;
  archiver: RunArchiver;
  warm: WarmPool;
  /** The runs this worker is working on, each with the controller that stops it. */
  active: Map<string, AbortController>;
  /** Docker stopped answering: take no new run. */
  onDockerDown(): void;
  /** Docker answers (again), after the leftovers were reaped: take runs. */
  onDockerUp(): void;
  log: Logger;
}

/**
 * What a worker does on a timer beside its runs: the heartbeat (its registry entry, with whether Docker answers), a
 * cancel whose pub/sub message was missed, watching Docker (runs are taken only while it answers), reaping leftover
 * sandbox containers, and moving finished runs' events to the archive.
 */
export class WorkerUpkeep {
  /** Whether Docker answered at the last heartbeat; false until the first. */
  dockerOk = false;
  private readonly startedAt = new Date().toISOString();
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private archiving = false;

  constructor(private readonly deps: UpkeepDeps) {}

  /** One heartbeat now, then the timers. */
  async start(): Promise<void> {
    await this.beat();
    this.timers = [
      setInterval(() => void this.beat(), HEARTBEAT_MS),
      setInterval(() => {
        if (this.dockerOk) void this.reapNow();
      }, REAP_INTERVAL_MS),
      setInterval(() => void this.archiveDue(), archiveSweepMs(this.deps.eventsRetentionMs)),
    ];
  }

  /** The worker is closing: Docker coming back must not make it take runs, and no new archive sweep starts. */
  beginClose(): void {
    this.stopped = true;
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
  }

  private async beat(): Promise<void> {
    const { active, cancel, registry, log } = this.deps;
    // A cancel whose pub/sub message was missed (reconnect) is still noticed within one heartbeat.
    for (const [runId, controller] of active) {
      if (!controller.signal.aborted && (await cancel.isRequested(runId).catch(() => false))) {
        controller.abort('cancel' satisfies StopReason);
      }
    }
    await this.checkDocker();
    await registry
      .beat(
        {
          workerId: this.deps.workerId,
          host: hostname(),
          pid: process.pid,
          startedAt: this.startedAt,
          concurrency: this.deps.concurrency,
          activeRuns: [...active.keys()],
          dockerOk: this.dockerOk,
        },
        HEARTBEAT_TTL_MS,
      )
      .catch((err) => log.warn({ err: (err as Error).message }, 'heartbeat failed'));
  }

  /**
   * Runs are taken only while Docker answers. A worker that starts without Docker waits for it (its heartbeat says
   * dockerOk: false, so /healthz reports it) instead of crashing, and queued runs stay queued; when Docker comes back,
   * leftovers are reaped first (a run that failed during the outage could not remove its containers).
   */
  private async checkDocker(): Promise<void> {
    const ok = await this.deps.docker.reachable(DOCKER_PING_TIMEOUT_MS);
    if (ok === this.dockerOk) return;
    this.dockerOk = ok;
    if (!ok) {
      this.deps.onDockerDown();
      return;
    }
    await this.reapNow();
    if (!this.dockerOk || this.stopped) return;
    this.deps.onDockerUp();
  }

  /** Removes this deployment's sandbox containers that no live run or warm pool of a live worker holds. */
  async reapNow(): Promise<void> {
    const { docker, deployment, runs, registry, warm, active, workerId, log } = this.deps;
    try {
      const removed = await reapSandboxes(docker, deployment, {
        keep: async (runId, owner) => {
          if (owner === workerId) return active.has(runId);
          const run = await runs.get(runId);
          return run !== null && !isFinalStatus(run.status) && (await registry.isAlive(owner));
        },
        // Another worker's pool is its own business while it lives; once it is gone (killed), nobody will use them.
        keepPooled: async (containerId, owner) =>
          owner === workerId ? warm.holds(containerId, (runId) => active.has(runId)) : registry.isAlive(owner),
      });
      if (removed.length > 0) log.info({ removed: removed.length }, 'reaped leftover sandbox containers');
    } catch (err) {
      log.warn({ err: (err as Error).message }, 'reaper failed');
    }
  }

  /** Every worker sweeps; two sweeping the same run at once is harmless (see RunArchiver). */
  private async archiveDue(): Promise<void> {
    if (this.archiving || this.stopped) return;
    this.archiving = true;
    try {
      const archived = await this.deps.archiver.archiveDue();
      if (archived.length > 0) this.deps.log.debug({ runs: archived }, 'archived finished runs');
    } catch (err) {
      this.deps.log.warn({ err: (err as Error).message }, 'could not archive finished runs; trying again later');
    } finally {
      this.archiving = false;
    }
  }
}

/** How often finished runs are looked for: a quarter of the retention, between 1 s and a minute. */
function archiveSweepMs(retentionMs: number): number {
  return Math.min(60_000, Math.max(1000, retentionMs / 4));
}
