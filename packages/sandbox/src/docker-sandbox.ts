import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  type ExecOptions,
  type ExecResult,
  type ReadFilesLimits,
  type Sandbox,
  type SandboxFile,
  SandboxStepError,
  SandboxUnavailableError,
  type SkippedFile,
} from '@autolab/engine';
import type Docker from 'dockerode';
import { CappedOutput } from './capped-output.js';
import { containerStats, memoryInUse, oomKillsSince } from './container-memory.js';
import { describeDockerError, isContainerGone, isDockerUnreachable } from './docker-errors.js';
import { LIST_COMMAND, parseListing, selectOutputs } from './output-selection.js';
import {
  type ContainerIdentity,
  containerSpec,
  KILL_ALL_SIGNAL,
  SANDBOX_UID,
  type SandboxLimits,
  type SandboxRuntime,
} from './sandbox-limits.js';
import { packFiles, unpackFiles } from './workspace-tar.js';

/** How long a container that reads as running may take to show that it died (DYING_LOOKS × DYING_LOOK_MS). */
const DYING_LOOKS = 12;
const DYING_LOOK_MS = 250;
const USER = `${SANDBOX_UID}:${SANDBOX_UID}`;
/** Bytes of each stream kept in an ExecResult: this much from the start and this much from the end. */
const KEEP_HEAD_BYTES = 16 * 1024;
const KEEP_TAIL_BYTES = 48 * 1024;
/** How long a killed exec may take to report its end before the container itself is replaced. */
const KILL_GRACE_MS = 5000;
/** How long the processes of a program may take to be gone after the kill before the container is replaced. */
const KILL_CONFIRM_MS = 10_000;
/** The listing of /workspace is read up to this size (about 50,000 names); files beyond it stay in the sandbox. */
const LISTING_MAX_BYTES = 4 * 1024 * 1024;
/**
 * Prints its own pid, then every pid in the container (bash builtins only, so one free pid is enough). Anything but
 * the keeper (1) and itself is a process the kill has not ended yet.
 */
const LIST_PROCESSES = ['bash', '-c', 'echo $$; echo /proc/[0-9]*'];

/** Empties /workspace except the inputs' read-only mount at /workspace/input. */
const CLEAR_WORKSPACE = [
  'find',
  '/workspace',
  '-mindepth',
  '1',
  '-maxdepth',
  '1',
  '!',
  '-name',
  'input',
  '-exec',
  'rm',
  '-rf',
  '{}',
  '+',
];

/** A sandbox container could not be created or started. */
export class SandboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

interface CommandResult {
  exitCode: number | null;
  stdout: Buffer;
  stderr: string;
}

/**
 * One container, kept alive for the duration of a run. Experiments are `docker exec`s as an unprivileged user;
 * files cross the boundary as tar streams through exec stdin/stdout (the root file system is read-only, so the
 * archive endpoints of the Docker API cannot write into the tmpfs workspace).
 *
 * After every exec, every process it started is ended (see `killAll`), so nothing a program leaves behind (a fork
 * bomb holding every pid, a detached child) reaches the next step. A failure caused by the program (its files cannot
 * be copied, its processes cannot be stopped, the container ended under it) is a `SandboxStepError`, and the next
 * step starts from a fresh container; errors that mean Docker is unreachable are passed on as they are.
 */
export class DockerSandbox implements Sandbox {
  private container: Docker.Container | null = null;
  /** Why the container can no longer be used; the next step that needs one starts a fresh container. */
  private brokenReason: string | null = null;
  imageId = '';

  private constructor(
    private readonly docker: Docker,
    private readonly image: string,
    private readonly limits: SandboxLimits,
    private readonly identity: ContainerIdentity,
    private readonly runtime: SandboxRuntime,
    /** Read-only volumes with the user's inputs (see InputVolumes). */
    private readonly mounts: Docker.MountSettings[],
  ) {}

  static async create(
    docker: Docker,
    image: string,
    limits: SandboxLimits,
    identity: ContainerIdentity,
    runtime: SandboxRuntime = 'runc',
    mounts: Docker.MountSettings[] = [],
  ): Promise<DockerSandbox> {
    const sandbox = new DockerSandbox(docker, image, limits, identity, runtime, mounts);
    await sandbox.startContainer();
    return sandbox;
  }

  get containerId(): string | null {
    return this.container?.id ?? null;
  }

  private async startContainer(): Promise<void> {
    const spec = containerSpec(this.image, this.limits, this.identity, this.runtime, this.mounts);
    spec.name = `autolab-${this.identity.runId}-${this.identity.role}-${randomBytes(3).toString('hex')}`;
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (err) {
      throw new SandboxError(`cannot create a sandbox from image ${this.image}: ${describeDockerError(err)}`, {
        cause: err,
      });
    }
    this.container = container;
    await container.start();
    const info = await container.inspect();
    this.imageId = info.Image;
    this.brokenReason = null;
  }

  private async liveContainer(): Promise<Docker.Container> {
    if (this.brokenReason || !this.container) {
      await this.removeContainer();
      await this.startContainer();
    }
    return this.container!;
  }

  /** Runs a Docker call of a step; failures become a `SandboxStepError` (unless Docker itself is unreachable). */
  private async step<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      if (err instanceof SandboxStepError || isDockerUnreachable(err)) throw err;
      if (isContainerGone(err)) this.brokenReason ??= await this.whyStopped();
      throw new SandboxStepError(`${what}: ${describeDockerError(err)}`, { cause: err });
    }
  }

  /** Why the container is no longer running, in words for a node's reason. */
  /** Why the container stopped, from Docker's record of it. */
  private async whyStopped(): Promise<string> {
    const container = this.container;
    if (!container) return 'the sandbox container is gone';
    let state: Docker.ContainerInspectInfo['State'];
    // A container that is dying (gVisor's sandbox at its memory limit) can still read as running for a moment after
    // its program's stream ended: look again before calling it unresponsive.
    for (let look = 0; ; look++) {
      try {
        state = (await container.inspect()).State;
      } catch (err) {
        if (isDockerUnreachable(err)) throw err;
        return `the sandbox container was removed (${describeDockerError(err)})`;
      }
      if (!state.Running || look >= DYING_LOOKS) break;
      await delay(DYING_LOOK_MS);
    }
    if (state.Running) return 'the sandbox container did not answer';
    const gvisor =
      this.runtime === 'runsc'
        ? ' (under gVisor the whole sandbox ends when a program exhausts its memory or process limit)'
        : '';
    // Docker's OOMKilled flag stays set once any process of the container met the OOM killer; only under gVisor,
    // where the OOM killer ends the whole sandbox, does it say why the container stopped.
    if (state.OOMKilled && this.runtime === 'runsc') {
      return `the sandbox container was ended by the out-of-memory killer at its ${this.limits.memoryMb} MB memory limit${gvisor}`;
    }
    return `the sandbox container stopped with exit code ${state.ExitCode}${state.Error ? ` (${state.Error})` : ''}${gvisor}`;
  }

  /**
   * Ends every process and empties /workspace. A container that is broken, or whose processes cannot be ended, is
   * replaced instead: a fresh one is just as clean.
   */
  async reset(): Promise<void> {
    await this.killAll();
    if (!this.brokenReason && this.container) {
      // The inputs' read-only mount is /workspace/input: everything else goes.
      const result = await this.runCommand(CLEAR_WORKSPACE, { timeoutMs: 30_000 }).catch((err: unknown) => {
        if (!(err instanceof SandboxStepError)) throw err;
        return { exitCode: null, stdout: Buffer.alloc(0), stderr: err.message };
      });
      if (result.exitCode !== 0) this.brokenReason = `cannot clear /workspace: ${commandFailure(result)}`;
    }
    await this.liveContainer();
  }

  async writeFiles(files: SandboxFile[]): Promise<void> {
    const archive = await packFiles(files);
    await this.liveContainer();
    const what = 'writing files into the sandbox failed';
    const result = await this.runCommand(['tar', '-x', '-C', '/workspace', '-f', '-'], {
      timeoutMs: 60_000,
      stdin: archive,
      what,
    });
    if (result.exitCode !== 0) throw new SandboxStepError(`${what}: ${await this.explainFailure(result)}`);
  }

  /**
   * Lists /workspace inside the sandbox, chooses what to copy within the limits, and copies only that: whatever is
   * over the limits never leaves the container.
   */
  async readFiles(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
    const what = 'copying files out of the sandbox failed';
    if (this.brokenReason || !this.container)
      throw new SandboxStepError(`${what}: ${this.brokenReason ?? 'no container'}`);
    const listing = await this.runCommand(LIST_COMMAND, { timeoutMs: 30_000, maxStdoutBytes: LISTING_MAX_BYTES, what });
    // find exits 1 when a file vanished while it listed; the listing is still good.
    if (listing.exitCode !== 0 && listing.exitCode !== 1) {
      throw new SandboxStepError(`${what}: ${await this.explainFailure(listing)}`);
    }
    const { include, skipped } = selectOutputs(parseListing(listing.stdout), limits);
    if (include.length === 0) return { files: [], skipped };

    const container = this.container;
    const exec = await this.step(what, () =>
      container.exec({
        Cmd: ['tar', '-c', '-C', '/workspace', '--null', '--no-recursion', '-T', '-', '-f', '-'],
        User: USER,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    const stream = await this.step(what, () => exec.start({ hijack: true, stdin: true }));
    const stdout = new PassThrough();
    const stderr = new CappedOutput(4096, 4096);
    this.docker.modem.demuxStream(stream, stdout, sinkInto(stderr));
    stream.on('end', () => stdout.end());
    stream.on('close', () => stdout.end());
    stream.on('error', (err: Error) => stdout.destroy(err));
    stream.end(Buffer.from(`${include.join('\0')}\0`));
    let unpacked: { files: SandboxFile[]; skipped: SkippedFile[] };
    try {
      unpacked = await unpackFiles(stdout, limits);
    } catch (err) {
      if (isDockerUnreachable(err)) throw err;
      const info = await exec.inspect().catch(() => null);
      const result = { exitCode: info?.ExitCode ?? null, stdout: Buffer.alloc(0), stderr: stderr.result().text };
      throw new SandboxStepError(`${what}: ${await this.explainFailure(result)} (${(err as Error).message})`, {
        cause: err,
      });
    }
    const info = await this.step(what, () => exec.inspect());
    // tar exits 1 when a file changed while it was read; what it archived is still well-formed.
    if (info.ExitCode !== 0 && info.ExitCode !== 1) {
      const result = { exitCode: info.ExitCode, stdout: Buffer.alloc(0), stderr: stderr.result().text };
      throw new SandboxStepError(`${what}: ${await this.explainFailure(result)}`);
    }
    return { files: unpacked.files, skipped: [...skipped, ...unpacked.skipped] };
  }

  /** Runs a command to completion under the timeout; the experiment path. */
  async exec(command: string[], options: ExecOptions): Promise<ExecResult> {
    const container = await this.liveContainer();
    const started = Date.now();
    const what = `running ${command[0]} in the sandbox failed`;
    const exec = await this.step(what, () =>
      container.exec({
        Cmd: command,
        User: USER,
        WorkingDir: '/workspace',
        Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    const stream = await this.step(what, () => exec.start({ hijack: true, stdin: false }));
    const outputs = {
      stdout: new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES),
      stderr: new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES),
    };
    const sinkFor = (name: 'stdout' | 'stderr') => {
      const decoder = new StringDecoder('utf8');
      return new Writable({
        write(chunk: Buffer, _enc, cb) {
          outputs[name].push(chunk);
          options.onOutput?.(name, decoder.write(chunk));
          cb();
        },
      });
    };
    this.docker.modem.demuxStream(stream, sinkFor('stdout'), sinkFor('stderr'));

    let timedOut = false;
    let aborted = false;
    let memoryAtStop: ExecResult['memoryAtStop'] = null;
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    // When the container itself ends under the program (gVisor's sandbox dies with its memory limit), Docker never
    // closes the exec's stream: watch the container too.
    const stopWatching = new AbortController();
    const containerEnded = container
      .wait({ abortSignal: stopWatching.signal })
      .then(() => true)
      .catch(() => false);
    const stop = async () => {
      memoryAtStop = await memoryInUse(container).catch(() => null);
      await this.killAll();
      const finished = await Promise.race([streamEnded.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
      if (!finished) {
        // The kill did not take (daemon trouble): throw the container away.
        this.brokenReason ??= 'the program could not be stopped';
        await container.kill().catch(() => undefined);
        stream.destroy();
      }
    };
    let stopping: Promise<void> | null = null;
    const timer = setTimeout(() => {
      timedOut = true;
      stopping ??= stop();
    }, options.timeoutMs);
    const onAbort = () => {
      aborted = true;
      stopping ??= stop();
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) onAbort();

    const containerDied = await Promise.race([
      streamEnded.then(() => false),
      containerEnded.then((ended) => (ended ? true : streamEnded.then(() => false))),
    ]);
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    stopWatching.abort();
    if (containerDied) {
      stream.destroy();
      this.brokenReason ??= await this.whyStopped();
    }
    if (stopping) await stopping;

    let exitCode: number | null = null;
    if (!this.brokenReason) {
      const info = await exec.inspect().catch(() => null);
      exitCode = info?.ExitCode ?? null;
    }
    // Whatever the program left running (children holding every pid, detached daemons) ends here, not later.
    await this.killAll();
    const killed = timedOut || aborted;
    // The OOM killer's events matter only for a program that failed; a clean exit skips the query.
    const oomKills =
      exitCode === 0 && !killed && !this.brokenReason
        ? 0
        : await oomKillsSince(this.docker, container.id, started - 500);
    const containerOom = this.brokenReason?.includes('out-of-memory killer') ?? false;
    return {
      exitCode,
      timedOut,
      outOfMemory: containerOom || (oomKills === null ? !killed && exitCode === 137 : oomKills > 0),
      durationMs: Date.now() - started,
      stdout: outputs.stdout.result(),
      stderr: outputs.stderr.result(),
      memoryAtStop,
      sandboxLost: this.brokenReason,
    };
  }

  /**
   * Ends every process but the keeper, and returns once they are gone. The keeper kills on a signal sent through the
   * Docker API, which needs no new process in the container: this works when a program has taken every pid. The
   * check (`processesLeft`) is retried while the killed processes release their pids. Processes that will not go
   * away make the container broken, so the next step gets a fresh one.
   */
  private async killAll(): Promise<void> {
    const container = this.container;
    if (!container || this.brokenReason) return;
    const deadline = Date.now() + KILL_CONFIRM_MS;
    let survivors = 'none counted';
    for (let attempt = 0; ; attempt++) {
      try {
        await container.kill({ signal: KILL_ALL_SIGNAL });
      } catch (err) {
        if (isDockerUnreachable(err)) throw err;
        const why = await this.whyStopped();
        this.brokenReason = why.endsWith('did not answer') ? `${why}: ${describeDockerError(err)}` : why;
        return;
      }
      const left = await this.processesLeft();
      if (this.brokenReason) return;
      if (left === 0) return;
      survivors = left === null ? 'no process can start to check' : `${left} still running`;
      if (Date.now() >= deadline) break;
      await delay(Math.min(25 * 2 ** attempt, 500));
    }
    this.brokenReason = `the processes the program left could not be stopped (${survivors})`;
    await container.kill().catch(() => undefined);
  }

  /**
   * Processes in the container besides the keeper and the check itself, or null when the check cannot start yet (the
   * killed processes still hold every pid). The check is one process listing /proc with bash builtins. (The cgroup's
   * pid count from `docker stats` needs no process, but the engine samples it about once a second, which made every
   * exec wait for the next sample; under gVisor it counts the user-space kernel's threads anyway.)
   */
  private async processesLeft(): Promise<number | null> {
    const check = await this.runCommand(LIST_PROCESSES, { timeoutMs: 5000 }).catch((err: unknown) => {
      if (err instanceof SandboxStepError) return null;
      throw err;
    });
    if (check?.exitCode !== 0) return null;
    const [self, list = ''] = check.stdout.toString('utf8').trim().split('\n');
    return list.split(' ').filter((p) => p !== '/proc/1' && p !== `/proc/${self}`).length;
  }

  /** A helper command with small output: optional stdin, stdout as bytes up to a cap, stderr as text. */
  private async runCommand(
    command: string[],
    options: { timeoutMs: number; stdin?: Buffer; maxStdoutBytes?: number; what?: string },
  ): Promise<CommandResult> {
    const what = options.what ?? `${command[0]} in the sandbox failed`;
    const container = this.container!;
    const exec = await this.step(what, () =>
      container.exec({
        Cmd: command,
        User: USER,
        AttachStdin: options.stdin !== undefined,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    const stream = await this.step(what, () => exec.start({ hijack: true, stdin: options.stdin !== undefined }));
    const maxStdout = options.maxStdoutBytes ?? 64 * 1024;
    const stdoutChunks: Buffer[] = [];
    let stdoutBytes = 0;
    const stderr = new CappedOutput(4096, 4096);
    this.docker.modem.demuxStream(
      stream,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (stdoutBytes < maxStdout) stdoutChunks.push(chunk.subarray(0, maxStdout - stdoutBytes));
          stdoutBytes += chunk.length;
          cb();
        },
      }),
      sinkInto(stderr),
    );
    const ended = new Promise<boolean>((resolve) => {
      stream.on('end', () => resolve(true));
      stream.on('close', () => resolve(true));
      stream.on('error', () => resolve(true));
    });
    if (options.stdin !== undefined) stream.end(options.stdin);
    const finished = await Promise.race([ended, delay(options.timeoutMs).then(() => false)]);
    if (!finished) {
      stream.destroy();
      throw new SandboxStepError(`${what}: ${command.join(' ')} did not finish within ${options.timeoutMs} ms`);
    }
    const info = await this.step(what, () => exec.inspect());
    return { exitCode: info.ExitCode, stdout: Buffer.concat(stdoutChunks), stderr: stderr.result().text };
  }

  /** Why a helper command failed, never empty: its error output, or what its exit code means. */
  private async explainFailure(result: CommandResult): Promise<string> {
    const text = commandFailure(result);
    if (result.exitCode !== 126 && result.exitCode !== 127 && result.exitCode !== null) return text;
    // Under gVisor the host's pid count is the user-space kernel's threads, not the program's processes.
    if (!this.container || this.runtime !== 'runc') return text;
    const pids = (await containerStats(this.container).catch(() => null))?.pids_stats;
    return pids?.current !== undefined && pids.limit
      ? `${text} (the container holds ${pids.current} of its ${pids.limit} processes)`
      : text;
  }

  private async removeContainer(): Promise<void> {
    const container = this.container;
    this.container = null;
    if (container) await container.remove({ force: true }).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.removeContainer();
  }

  /**
   * Checks that the container still runs (a dockerd restart stops it); if it does not, the next step starts a fresh
   * one. Returns true when the container is to be replaced (its workspace is gone). Docker being unreachable is
   * thrown, not taken for a dead container.
   */
  async ensureRunning(): Promise<boolean> {
    if (!this.container || this.brokenReason) return true;
    const running = await this.container.inspect().then(
      (info) => info.State.Running,
      (err: Error) => {
        if (err instanceof SandboxUnavailableError) throw err;
        return false;
      },
    );
    if (!running) this.brokenReason ??= 'the sandbox container stopped (was the Docker engine restarted?)';
    return !running;
  }
}

/** A command's failure in words: exit code and error output, or what the exit code means when it printed nothing. */
function commandFailure(result: CommandResult): string {
  const stderr = result.stderr.trim();
  const code = result.exitCode === null ? 'an unknown exit code' : `exit code ${result.exitCode}`;
  if (stderr) return `${code}: ${stderr.slice(-1000)}`;
  if (result.exitCode === 126 || result.exitCode === 127) {
    return `the command could not be started in the container (${code}, no error output)`;
  }
  return `${code}, no error output`;
}

function sinkInto(output: CappedOutput): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      output.push(chunk);
      cb();
    },
  });
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
