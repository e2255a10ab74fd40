import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  type ExecOptions,
  type ExecResult,
  type ProgramOutcome,
  type ProgramRun,
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
import { parseListing, selectOutputs } from './output-selection.js';
import {
  type ContainerIdentity,
  containerSpec,
  KILL_ALL_SIGNAL,
  SANDBOX_UID,
  type SandboxLimits,
  type SandboxRuntime,
} from './sandbox-limits.js';
import { type Frame, SupervisorChannel } from './supervisor-channel.js';
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
/** How long ending the program's leftovers and listing /workspace may take. */
const LISTING_TIMEOUT_MS = 30_000;
/** How long clearing /workspace and unpacking a program's files may take before the program starts. */
const SETUP_TIMEOUT_MS = 60_000;
/**
 * Prints its own pid, then every pid in the container (bash builtins only, so one free pid is enough). Anything but
 * the supervisor (1) and itself is a process the kill has not ended yet.
 */
const LIST_PROCESSES = ['bash', '-c', 'echo $$; echo /proc/[0-9]*'];

/** Empties /workspace except the inputs' read-only mount at /workspace/input. */
const CLEAR_WORKSPACE = 'find /workspace -mindepth 1 -maxdepth 1 ! -name input -exec rm -rf {} +';
/** What runsc writes on an exec's stderr when its sandbox's kernel has gone (exit code 128). */
const RUNSC_SANDBOX_FAILED = /urpc method "containerManager\.\w+" failed/;
/** How long the worker waits for the supervisor's next frame before it looks again (its own timers decide). */
const PROGRAM_FRAME_WAIT_MS = 60_000;
/** Bytes of the archive of chosen files beyond their own sizes (tar headers, padding) before it counts as a lie. */
const ARCHIVE_SLACK_BYTES = 1024 * 1024;

const LEFTOVERS = 96;
/** Precedes the exit status of the listing's `find` on stdout; no listing record can contain it. */
const LISTED = Buffer.from('\0autolab:listed ');

/**
 * `readFiles` in one exec. It first ends every process but the supervisor (1) and itself with
 * bash builtins (`kill -KILL -1` by uid 1000 reaches every other process of the container) and waits until /proc
 * shows them gone; then it lists /workspace (capped at $1 bytes; the format `parseListing` reads), prints LISTED and
 * find's exit status, and archives the NUL-separated paths the worker chose from the listing and sends back on stdin.
 * While it waits, `read -t` sleeps without a process: the worker writes nothing before the listing.
 */
const COLLECT_SCRIPT = `for ((try = 0; ; try++)); do
  left=0
  for p in /proc/[0-9]*; do [ "$p" = /proc/1 ] || [ "$p" = /proc/$$ ] || left=$((left + 1)); done
  [ "$left" = 0 ] && break
  if [ "$try" -ge 200 ]; then echo "$left processes left" >&2; exit ${LEFTOVERS}; fi
  kill -KILL -1 2>/dev/null
  read -r -t 0.05 _
done
find /workspace -mindepth 1 -printf '%y %s %P\\0' | head -c "$1"
printf '\\0autolab:listed %s\\0' "\${PIPESTATUS[0]}"
exec tar -c -C /workspace --null --no-recursion -T - -f -`;

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

/** A program whose exec has ended (its processes may still have to be ended). */
interface RunningProgram {
  container: Docker.Container;
  /** When the program itself started (for the supervisor: when it reported the start), and when it ended. */
  started: number;
  ended: number;
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  memoryAtStop: ExecResult['memoryAtStop'];
  stdout: CappedOutput;
  stderr: CappedOutput;
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
  /** The attach stream to the container's supervisor (PID 1), opened with the container. */
  private channel: SupervisorChannel | null = null;
  /** Why the container can no longer be used; the next step that needs one starts a fresh container. */
  private brokenReason: string | null = null;
  /** Nothing has run in the container yet: its workspace is empty and no process but the supervisor exists. */
  private pristine = true;
  imageId = '';

  private constructor(
    private readonly docker: Docker,
    private readonly image: string,
    private readonly limits: SandboxLimits,
    /** Whose container it is; a pooled sandbox gets its run's identity when a run takes it (`claim`). */
    private identity: ContainerIdentity,
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

  /** Nothing has run in it yet (a pooled sandbox a run just took, or a new one). */
  get isPristine(): boolean {
    return this.pristine && !this.brokenReason && this.container !== null;
  }

  /**
   * Hands a pooled sandbox to a run: its container is renamed after the run (labels cannot change; the name is how
   * `removeRunContainers` finds it), and any container that later replaces a broken one carries the run's labels.
   * The rename is sent once the run's first program has started, and not waited for: the program's start need not
   * queue behind it in the engine, and nothing depends on its timing (the run's own end removes the container by its
   * handle; a dead worker's pooled containers are reaped by label). A container that died while idle fails the first
   * step, which starts a fresh one.
   */
  claim(identity: ContainerIdentity): void {
    this.identity = identity;
    this.pendingName = containerName(identity);
  }

  /** The name `claim` gave, applied once the first program has started (so its start does not wait behind it). */
  private pendingName: string | null = null;

  private applyPendingName(container: Docker.Container): void {
    const name = this.pendingName;
    this.pendingName = null;
    if (name) void container.rename({ name }).catch(() => undefined);
  }

  private async startContainer(): Promise<void> {
    const spec = containerSpec(this.image, this.limits, this.identity, this.runtime, this.mounts);
    spec.name = containerName(this.identity);
    // A replacement is named for its run from the start.
    this.pendingName = null;
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
    this.channel = await SupervisorChannel.attach(this.docker, container, LISTING_MAX_BYTES);
    const info = await container.inspect();
    this.imageId = info.Image;
    this.brokenReason = null;
    this.pristine = true;
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
   * replaced instead: a fresh one is just as clean. A container nothing has run in yet needs nothing.
   */
  async reset(): Promise<void> {
    if (this.pristine && !this.brokenReason && this.container) return;
    await this.killAll();
    if (!this.brokenReason && this.container) {
      const result = await this.runCommand(['bash', '-c', CLEAR_WORKSPACE], { timeoutMs: 30_000 }).catch(
        (err: unknown) => {
          if (!(err instanceof SandboxStepError)) throw err;
          return { exitCode: null, stdout: Buffer.alloc(0), stderr: err.message };
        },
      );
      if (result.exitCode !== 0) this.brokenReason = `cannot clear /workspace: ${commandFailure(result)}`;
    }
    await this.liveContainer();
  }

  async writeFiles(files: SandboxFile[]): Promise<void> {
    const archive = await packFiles(files);
    await this.liveContainer();
    this.pristine = false;
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
   * over the limits never leaves the container. Any process still running is ended first.
   */
  async readFiles(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
    return this.collect(limits);
  }

  /**
   * An experiment without a single `docker exec`: the supervisor (the container's PID 1, supervisor.py) clears the
   * workspace, unpacks the files, runs the program and streams its output, ends whatever it left running, lists the
   * workspace and archives the files chosen from the listing, all over the container's attach stream
   * (`SupervisorChannel`). The time limit and the output caps are the worker's, never the supervisor's word. A container
   * that cannot be cleared, or whose supervisor no longer answers, is replaced by a fresh one, as `reset` does.
   */
  async runProgram(run: ProgramRun): Promise<ProgramOutcome> {
    const archive = await packFiles(run.files);
    for (let attempt = 0; ; attempt++) {
      const container = await this.liveContainer();
      const clear = !this.pristine;
      this.pristine = false;
      const outcome = await this.superviseProgram(container, this.channel!, run, archive, clear);
      // The container ended after the last program (gVisor's can take a moment to die), or could not be cleared:
      // as `reset` would, start from a fresh one.
      if (outcome === 'retry' && attempt === 0) continue;
      if (outcome === 'retry')
        throw new SandboxStepError(`writing files into the sandbox failed: ${this.brokenReason}`);
      return outcome;
    }
  }

  /**
   * One experiment's exchange with the supervisor. Any way out of it but an outcome (a thrown error, a timeout, the
   * supervisor's report that setup failed) leaves the container broken: the supervisor may be mid-exchange or the
   * workspace half written, and the next step starts from a fresh container rather than trust it.
   */
  private async superviseProgram(
    container: Docker.Container,
    channel: SupervisorChannel,
    run: ProgramRun,
    archive: Buffer,
    clear: boolean,
  ): Promise<ProgramOutcome | 'retry'> {
    let inStep = true;
    try {
      const result = await this.superviseSteps(container, channel, run, archive, clear);
      inStep = false;
      return result;
    } finally {
      if (inStep) this.brokenReason ??= channel.endReason ?? 'the sandbox supervisor was left mid-experiment';
    }
  }

  private async superviseSteps(
    container: Docker.Container,
    channel: SupervisorChannel,
    run: ProgramRun,
    archive: Buffer,
    clear: boolean,
  ): Promise<ProgramOutcome | 'retry'> {
    const options = run.exec;
    const header = Buffer.from(
      JSON.stringify({ clear, command: run.command, env: options.env ?? {}, listingMaxBytes: LISTING_MAX_BYTES }),
    );
    const length = Buffer.alloc(4);
    length.writeUInt32BE(header.length);
    channel.send('R', Buffer.concat([length, header, archive]));
    this.applyPendingName(container);

    // Until the program has started: clearing and unpacking are the sandbox's time, not the program's.
    const setup = await channel.next(SETUP_TIMEOUT_MS);
    if (setup === 'timeout') {
      this.brokenReason ??= 'the sandbox supervisor did not answer';
      throw new SandboxStepError(
        `writing files into the sandbox failed: clearing and unpacking did not finish within ${SETUP_TIMEOUT_MS} ms`,
      );
    }
    if ('end' in setup) {
      this.brokenReason ??= await this.whyStopped();
      return 'retry';
    }
    if (setup.kind === 'F') {
      const failure = parseJson(setup.payload) as { stage?: string; message?: string } | null;
      const message = String(failure?.message ?? setup.payload.toString('utf8')).slice(0, 1000);
      if (failure?.stage === 'clear') {
        this.brokenReason ??= `cannot clear /workspace: ${message}`;
        return 'retry';
      }
      // The supervisor is back waiting for the next experiment, but the workspace is half written: like every way out
      // before the exchange's end, this replaces the container (see `superviseProgram`).
      throw new SandboxStepError(
        failure?.stage === 'start'
          ? `starting the program in the sandbox failed: ${message}`
          : `writing files into the sandbox failed: ${message}`,
      );
    }
    if (setup.kind !== 'r') return this.protocolBroken(channel, setup);

    const started = Date.now();
    const stdout = new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES);
    const stderr = new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES);
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    let timedOut = false;
    let aborted = false;
    let memoryAtStop: ExecResult['memoryAtStop'] = null;
    let exited: () => void = () => undefined;
    const programEnded = new Promise<void>((resolve) => {
      exited = resolve;
    });
    // The host's own limit: ask the supervisor to kill; if it does not report the end, the kill signal (SIGUSR1, as
    // `killAll` sends it); if that does not either, the container is thrown away.
    const stop = async () => {
      memoryAtStop = await memoryInUse(container).catch(() => null);
      channel.send('K');
      if (await settlesWithin(programEnded, KILL_GRACE_MS)) return;
      await container.kill({ signal: KILL_ALL_SIGNAL }).catch(() => undefined);
      if (await settlesWithin(programEnded, KILL_GRACE_MS)) return;
      this.brokenReason ??= 'the program could not be stopped';
      await container.kill().catch(() => undefined);
      channel.close(this.brokenReason);
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
    // When the container ends under the program (gVisor's sandbox dies with its memory limit), the attach stream may
    // stay open for a while: watch the container too.
    const stopWatching = new AbortController();
    const containerEnded = container
      .wait({ abortSignal: stopWatching.signal })
      .then(() => ({ end: 'the container stopped' }))
      .catch(() => null);

    let exitCode: number | null = null;
    let ended = Date.now();
    let died = false;
    try {
      for (;;) {
        const frame = await Promise.race([
          channel.next(PROGRAM_FRAME_WAIT_MS),
          containerEnded.then((end) => end ?? new Promise<never>(() => undefined)),
        ]);
        if (frame === 'timeout') continue;
        if ('end' in frame) {
          died = true;
          break;
        }
        if (frame.kind === 'o' || frame.kind === 'e') {
          const name = frame.kind === 'o' ? 'stdout' : 'stderr';
          (name === 'stdout' ? stdout : stderr).push(frame.payload);
          options.onOutput?.(name, decoders[name].write(frame.payload));
          continue;
        }
        if (frame.kind === 'x') {
          ended = Date.now();
          const code = (parseJson(frame.payload) as { exitCode?: unknown } | null)?.exitCode;
          exitCode = typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255 ? code : null;
          break;
        }
        died = true;
        this.brokenReason ??= protocolError(frame);
        break;
      }
    } finally {
      exited();
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      stopWatching.abort();
    }
    if (died) {
      ended = Date.now();
      // A container that still runs lost its supervisor's stream, or the supervisor broke the protocol: say which.
      const why = this.brokenReason ?? channel.endReason;
      channel.close(why ?? 'the container stopped');
      const stopped = await this.whyStopped();
      this.brokenReason ??= stopped.endsWith('did not answer') && why ? why : stopped;
    }
    if (stopping) await stopping;
    const program: RunningProgram = {
      container,
      started,
      ended,
      exitCode,
      timedOut,
      aborted,
      memoryAtStop,
      stdout,
      stderr,
    };

    let collected: { files: SandboxFile[]; skipped: SkippedFile[] } = { files: [], skipped: [] };
    let outputError: string | null = null;
    try {
      collected = await this.collectFromSupervisor(channel, run.outputs, aborted || !!options.signal?.aborted);
      if (aborted || options.signal?.aborted) {
        collected = { files: [], skipped: [] };
        outputError = 'the run was cancelled';
      }
    } catch (err) {
      if (!(err instanceof SandboxStepError)) throw err;
      outputError = err.message;
    }
    return { exec: await this.programResult(program), ...collected, outputError };
  }

  /**
   * After the program's end: the supervisor has ended every process it left and lists /workspace; the worker chooses
   * within the limits, and the supervisor archives only those files. `nothing`: choose none (a cancelled run) but
   * finish the exchange.
   */
  private async collectFromSupervisor(
    channel: SupervisorChannel,
    limits: ReadFilesLimits,
    nothing: boolean,
  ): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
    const what = 'copying files out of the sandbox failed';
    if (this.brokenReason) throw new SandboxStepError(`${what}: ${this.brokenReason}`);
    const listing = await channel.next(LISTING_TIMEOUT_MS);
    if (listing === 'timeout') {
      this.brokenReason ??= 'the sandbox supervisor did not answer';
      throw new SandboxStepError(`${what}: listing /workspace did not finish within ${LISTING_TIMEOUT_MS} ms`);
    }
    if ('end' in listing) {
      this.brokenReason ??= await this.whyStopped();
      throw new SandboxStepError(`${what}: ${this.brokenReason}`);
    }
    if (listing.kind === '!') {
      this.brokenReason ??= `the processes the program left could not be stopped (${listing.payload.toString('utf8')})`;
      // The supervisor is waiting for the next experiment; the container is replaced all the same.
      throw new SandboxStepError(`${what}: ${this.brokenReason}`);
    }
    if (listing.kind !== 'L') {
      this.brokenReason ??= protocolError(listing);
      throw new SandboxStepError(`${what}: ${this.brokenReason}`);
    }
    const { include, skipped } = nothing
      ? { include: [], skipped: [] }
      : selectOutputs(parseListing(listing.payload), limits);
    channel.send('C', Buffer.from(include.map((path) => `${path}\0`).join('')));
    const tarStream = new PassThrough();
    const unpacked = unpackFiles(tarStream, limits);
    // Read errors surface through `unpacked`; this keeps an early one from being unhandled meanwhile.
    unpacked.catch(() => undefined);
    let failure: string | null = null;
    let received = 0;
    for (;;) {
      const frame = await channel.next(LISTING_TIMEOUT_MS);
      if (frame === 'timeout') {
        this.brokenReason ??= 'the sandbox supervisor did not answer';
        failure = `archiving the files did not finish within ${LISTING_TIMEOUT_MS} ms`;
        break;
      }
      if ('end' in frame) {
        this.brokenReason ??= await this.whyStopped();
        failure = this.brokenReason;
        break;
      }
      if (frame.kind === 't') {
        received += frame.payload.length;
        if (received > limits.maxTotalBytes + ARCHIVE_SLACK_BYTES) {
          this.brokenReason ??= 'the sandbox supervisor sent more than the files it was asked for';
          failure = this.brokenReason;
          break;
        }
        if (!tarStream.write(frame.payload)) await new Promise((resolve) => tarStream.once('drain', resolve));
        continue;
      }
      if (frame.kind === 'z') {
        if (frame.payload.length > 0) failure = frame.payload.toString('utf8');
        break;
      }
      this.brokenReason ??= protocolError(frame);
      failure = this.brokenReason;
      break;
    }
    if (failure !== null) {
      tarStream.destroy(new Error(failure));
      await unpacked.catch(() => undefined);
      throw new SandboxStepError(`${what}: ${failure}`);
    }
    tarStream.end();
    let files: { files: SandboxFile[]; skipped: SkippedFile[] };
    try {
      files = await unpacked;
    } catch (err) {
      throw new SandboxStepError(`${what}: ${(err as Error).message}`, { cause: err });
    }
    return { files: files.files, skipped: [...skipped, ...files.skipped] };
  }

  /** The supervisor sent what it never should: the container cannot be trusted with another step. */
  private protocolBroken(channel: SupervisorChannel, frame: Frame): never {
    this.brokenReason ??= protocolError(frame);
    channel.close(this.brokenReason);
    throw new SandboxStepError(`running the program in the sandbox failed: ${this.brokenReason}`);
  }

  /** Runs a command to completion under the timeout; the experiment path. */
  async exec(command: string[], options: ExecOptions): Promise<ExecResult> {
    const container = await this.liveContainer();
    this.pristine = false;
    const program = await this.startProgram(container, command, options);
    // Whatever the program left running (children holding every pid, detached daemons) ends here, not later.
    await this.killAll();
    return this.programResult(program);
  }

  /** Runs a program (`exec`) until its exec ends or it is stopped (timeout, abort, its container ending). */
  private async startProgram(
    container: Docker.Container,
    command: string[],
    options: ExecOptions,
  ): Promise<RunningProgram> {
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
    this.applyPendingName(container);
    const outputs = {
      stdout: new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES),
      stderr: new CappedOutput(KEEP_HEAD_BYTES, KEEP_TAIL_BYTES),
    };
    const decoders = { stdout: new StringDecoder('utf8'), stderr: new StringDecoder('utf8') };
    const sink = (name: 'stdout' | 'stderr') =>
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          outputs[name].push(chunk);
          options.onOutput?.(name, decoders[name].write(chunk));
          cb();
        },
      });
    this.docker.modem.demuxStream(stream, sink('stdout'), sink('stderr'));

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
    const onTimeout = () => {
      timedOut = true;
      stopping ??= stop();
    };
    const timer = setTimeout(onTimeout, options.timeoutMs);
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
    const ended = Date.now();

    let exitCode: number | null = null;
    if (!this.brokenReason) {
      const info = await exec.inspect().catch(() => null);
      exitCode = info?.ExitCode ?? null;
    }
    // gVisor's own report that its sandbox broke under the program (it ends a moment later): the program's result
    // is the container's end, and the next step needs a fresh one.
    if (this.runtime === 'runsc' && exitCode === 128 && RUNSC_SANDBOX_FAILED.test(outputs.stderr.result().text)) {
      this.brokenReason ??= await this.whyStopped();
    }
    return {
      container,
      started,
      ended,
      exitCode,
      timedOut,
      aborted,
      memoryAtStop,
      ...outputs,
    };
  }

  /** The result of a program whose processes have all been ended. */
  private async programResult(program: RunningProgram): Promise<ExecResult> {
    const { container, exitCode, timedOut, aborted, started } = program;
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
      durationMs: program.ended - program.started,
      stdout: program.stdout.result(),
      stderr: program.stderr.result(),
      memoryAtStop: program.memoryAtStop,
      sandboxLost: this.brokenReason,
    };
  }

  /**
   * Ends every process the program left, then copies out the files within the limits (COLLECT_SCRIPT, one exec).
   * When that exec cannot even start (the program's processes hold every pid) or cannot end them, the supervisor ends
   * them (`killAll`) and the exec is tried once more.
   */
  private async collect(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
    const what = 'copying files out of the sandbox failed';
    for (let attempt = 0; ; attempt++) {
      if (this.brokenReason || !this.container)
        throw new SandboxStepError(`${what}: ${this.brokenReason ?? 'no container'}`);
      const collected = await this.collectOnce(this.container, limits, what);
      if (!('blocked' in collected)) return collected;
      if (attempt > 0) throw new SandboxStepError(`${what}: ${await this.explainFailure(collected.blocked)}`);
      await this.killAll();
    }
  }

  private async collectOnce(
    container: Docker.Container,
    limits: ReadFilesLimits,
    what: string,
  ): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] } | { blocked: CommandResult }> {
    const exec = await this.step(what, () =>
      container.exec({
        Cmd: ['bash', '-c', COLLECT_SCRIPT, 'autolab-collect', String(LISTING_MAX_BYTES)],
        User: USER,
        AttachStdin: true,
        AttachStdout: true,
        AttachStderr: true,
      }),
    );
    const stream = await this.step(what, () => exec.start({ hijack: true, stdin: true }));
    const archive = new PassThrough();
    const stderr = new CappedOutput(4096, 4096);
    let head: Buffer | null = Buffer.alloc(0);
    let listed: (listing: { entries: Buffer; status: number }) => void = () => undefined;
    const listing = new Promise<{ entries: Buffer; status: number }>((resolve) => {
      listed = resolve;
    });
    this.docker.modem.demuxStream(
      stream,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          if (head === null) {
            if (archive.write(chunk)) cb();
            else archive.once('drain', () => cb());
            return;
          }
          head = Buffer.concat([head, chunk]);
          const at = head.indexOf(LISTED);
          const end = at < 0 ? -1 : head.indexOf(0, at + LISTED.length);
          if (end < 0) return cb();
          listed({ entries: head.subarray(0, at), status: Number(head.subarray(at + LISTED.length, end)) });
          const rest = head.subarray(end + 1);
          head = null;
          if (rest.length > 0) archive.write(rest);
          cb();
        },
      }),
      sinkInto(stderr),
    );
    const ended = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    void ended.then(() => archive.end());
    // Once the listing is in, `unpackFiles` reads the archive and takes its errors; before, a broken stream just
    // ends the listing early.
    stream.on('error', (err: Error) => {
      if (head === null) archive.destroy(err);
    });
    const outcome = await Promise.race([
      listing,
      ended.then(() => null),
      delay(LISTING_TIMEOUT_MS).then(() => 'timeout' as const),
    ]);
    const result = async (): Promise<CommandResult> => {
      const info = await exec.inspect().catch(() => null);
      return { exitCode: info?.ExitCode ?? null, stdout: Buffer.alloc(0), stderr: stderr.result().text };
    };
    if (outcome === 'timeout') {
      stream.destroy();
      throw new SandboxStepError(`${what}: listing /workspace did not finish within ${LISTING_TIMEOUT_MS} ms`);
    }
    if (outcome === null) {
      // No listing: the exec could not start, or the processes would not go away.
      const blocked = await result();
      if (blocked.exitCode === LEFTOVERS || blocked.exitCode === 126 || blocked.exitCode === 127) return { blocked };
      if (this.brokenReason) throw new SandboxStepError(`${what}: ${this.brokenReason}`);
      return { blocked };
    }
    // find exits 1 when a file vanished while it listed; the listing is still good.
    if (outcome.status !== 0 && outcome.status !== 1) {
      stream.end();
      await ended;
      throw new SandboxStepError(`${what}: listing /workspace failed: ${commandFailure(await result())}`);
    }
    const { include, skipped } = selectOutputs(parseListing(outcome.entries), limits);
    stream.end(include.length > 0 ? Buffer.from(`${include.join('\0')}\0`) : Buffer.alloc(0));
    let unpacked: { files: SandboxFile[]; skipped: SkippedFile[] };
    try {
      unpacked = await unpackFiles(archive, limits);
    } catch (err) {
      if (isDockerUnreachable(err)) throw err;
      throw new SandboxStepError(`${what}: ${await this.explainFailure(await result())} (${(err as Error).message})`, {
        cause: err,
      });
    }
    await ended;
    const info = await this.step(what, () => exec.inspect());
    // tar exits 1 when a file changed while it was read; what it archived is still well-formed.
    if (info.ExitCode !== 0 && info.ExitCode !== 1) {
      throw new SandboxStepError(`${what}: ${await this.explainFailure(await result())}`);
    }
    return { files: unpacked.files, skipped: [...skipped, ...unpacked.skipped] };
  }

  /**
   * Ends every process but the supervisor, and returns once they are gone. The supervisor kills on a signal sent through the
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
   * Processes in the container besides the supervisor and the check itself, or null when the check cannot start yet (the
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
    this.channel?.close();
    this.channel = null;
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

/** `autolab-<runId>-<role>-<hex>`, or `autolab-pool-<role>-<hex>` for a pooled container no run has taken yet. */
function containerName(id: ContainerIdentity): string {
  return `autolab-${id.pooled ? 'pool' : id.runId}-${id.role}-${randomBytes(3).toString('hex')}`;
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

/** Whether `promise` settles within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  return Promise.race([promise.then(() => true), delay(ms).then(() => false)]);
}

function parseJson(payload: Buffer): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
}

function protocolError(frame: Frame): string {
  return `the sandbox supervisor broke its protocol (unexpected frame ${JSON.stringify(frame.kind)})`;
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
