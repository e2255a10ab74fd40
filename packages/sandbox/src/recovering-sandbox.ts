import {
  type ExecOptions,
  type ExecResult,
  type ProgramOutcome,
  type ProgramRun,
  type ReadFilesLimits,
  type Sandbox,
  type SandboxFile,
  SandboxUnavailableError,
  type SkippedFile,
} from '@autolab/engine';
import type { DockerClient } from './docker-client.js';
import type { DockerSandbox } from './docker-sandbox.js';

/** How many times one step is started again after outages before the run gives up on Docker. */
const MAX_REPLAYS = 3;

const REPLAY_NOTICE =
  '\n[autolab] Docker was unreachable while this ran, so its outcome is unknown; running it again from the start.\n';

/**
 * A sandbox that survives short Docker outages. The client (`DockerClient`) already waits for Docker on every request;
 * what it cannot do is resume a stream that an outage cut: a command whose output stopped mid-way, a copy in or out
 * that broke off. Such a step's outcome is unknown, so it is done again, from the same starting point: the workspace
 * is cleared and every file written since the last `reset` is written again (a restarted dockerd stops containers;
 * then a fresh one is started first). A step counts as cut short when Docker was unreachable at any moment while it
 * ran, or when a command came back without an exit code although nothing stopped it.
 *
 * When Docker stays away longer than the client waits, `SandboxUnavailableError` goes up to the engine, which fails
 * the run with `docker_unavailable`.
 */
export class RecoveringSandbox implements Sandbox {
  /** What the workspace held after the last reset: enough to rebuild it for a step that has to be done again. */
  private written: SandboxFile[] = [];
  private lastExec: { command: string[]; options: ExecOptions } | null = null;

  constructor(
    private readonly inner: DockerSandbox,
    private readonly docker: DockerClient,
  ) {}

  get imageId(): string {
    return this.inner.imageId;
  }

  async reset(): Promise<void> {
    this.written = [];
    this.lastExec = null;
    await this.step({
      run: () => this.inner.reset(),
      replay: async () => {
        await this.inner.ensureRunning();
      },
    });
  }

  async writeFiles(files: SandboxFile[]): Promise<void> {
    this.written.push(...files);
    // A replay rebuilds the whole workspace, these files included, and then has nothing left to do.
    let rebuilt = false;
    await this.step({
      run: async () => {
        if (!rebuilt) await this.inner.writeFiles(files);
      },
      replay: async () => {
        await this.rebuildWorkspace();
        rebuilt = true;
      },
    });
  }

  async exec(command: string[], options: ExecOptions): Promise<ExecResult> {
    this.lastExec = { command, options };
    return this.step({
      run: () => this.inner.exec(command, options),
      // No exit code although neither the timeout nor the caller stopped it: its stream was cut.
      cutShort: (result) => result.exitCode === null && !result.timedOut,
      replay: async () => {
        options.onOutput?.('stderr', REPLAY_NOTICE);
        await this.rebuildWorkspace();
      },
      signal: options.signal,
    });
  }

  /** A program run starts from a clean workspace of its own, so doing it again needs nothing rebuilt. */
  async runProgram(run: ProgramRun): Promise<ProgramOutcome> {
    this.written = [...run.files];
    this.lastExec = { command: run.command, options: run.exec };
    return this.step({
      run: () => this.inner.runProgram(run),
      cutShort: (outcome) => outcome.exec.exitCode === null && !outcome.exec.timedOut,
      replay: async () => {
        run.exec.onOutput?.('stderr', REPLAY_NOTICE);
        await this.inner.ensureRunning();
      },
      signal: run.exec.signal,
    });
  }

  async readFiles(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
    return this.step({
      run: () => this.inner.readFiles(limits),
      replay: async () => {
        // The files are still there unless the container died with dockerd; then the command has to run again.
        if (!(await this.inner.ensureRunning()) || !this.lastExec) return;
        await this.rebuildWorkspace();
        await this.inner.exec(this.lastExec.command, { ...this.lastExec.options, onOutput: undefined });
      },
    });
  }

  async close(): Promise<void> {
    await this.inner.close();
  }

  private async rebuildWorkspace(): Promise<void> {
    await this.inner.ensureRunning();
    await this.inner.reset();
    if (this.written.length > 0) await this.inner.writeFiles(this.written);
  }

  /**
   * Runs one step; when an outage may have cut it short (Docker failed while it ran, or `cutShort` says so), runs
   * `replay` and then the step again, up to MAX_REPLAYS times. Nothing is replayed once `signal` has fired.
   */
  private async step<T>(step: {
    run: () => Promise<T>;
    cutShort?: (result: T) => boolean;
    replay: () => Promise<void>;
    signal?: AbortSignal;
  }): Promise<T> {
    for (let replays = 0; ; replays++) {
      const started = Date.now();
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        if (replays > 0) await step.replay();
        outcome = { ok: true, value: await step.run() };
      } catch (error) {
        outcome = { ok: false, error };
      }
      const unavailable = outcome.ok ? null : unavailableCause(outcome.error);
      if (unavailable) throw unavailable;
      const dockerFailed = this.docker.lastFailureAt >= started;
      const lost = !step.signal?.aborted && (dockerFailed || (outcome.ok && (step.cutShort?.(outcome.value) ?? false)));
      if (!lost) {
        if (outcome.ok) return outcome.value;
        throw outcome.error;
      }
      if (replays >= MAX_REPLAYS) {
        // Docker answered all along: whatever keeps ending this command early is not an outage; report it as it is.
        if (!dockerFailed && outcome.ok) return outcome.value;
        throw new SandboxUnavailableError(
          `Docker kept dropping the connection: a sandbox step was cut short ${replays + 1} times`,
          outcome.ok ? {} : { cause: outcome.error },
        );
      }
    }
  }
}

/** The SandboxUnavailableError behind an error, if any (the sandbox wraps some Docker errors in its own). */
export function unavailableCause(err: unknown): SandboxUnavailableError | null {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (e instanceof SandboxUnavailableError) return e;
  }
  return null;
}
