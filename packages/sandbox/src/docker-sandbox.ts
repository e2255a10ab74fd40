import { randomBytes } from 'node:crypto';
import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import {
  type ExecOptions,
  type ExecResult,
  type ReadFilesLimits,
  type Sandbox,
  type SandboxFile,
  SandboxUnavailableError,
} from '@autolab/engine';
import type Docker from 'dockerode';
import { CappedOutput } from './capped-output.js';
import { type ContainerIdentity, containerSpec, SANDBOX_UID, type SandboxLimits } from './sandbox-limits.js';
import { packFiles, unpackFiles } from './workspace-tar.js';

const USER = `${SANDBOX_UID}:${SANDBOX_UID}`;
/** Bytes of each stream kept in an ExecResult: this much from the start and this much from the end. */
const KEEP_HEAD_BYTES = 16 * 1024;
const KEEP_TAIL_BYTES = 48 * 1024;
/** How long a killed exec may take to report its end before the container itself is replaced. */
const KILL_GRACE_MS = 5000;

export class SandboxError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/**
 * One container, kept alive for the duration of a run. Experiments are `docker exec`s as an unprivileged user;
 * files cross the boundary as tar streams through exec stdin/stdout (the root file system is read-only, so the
 * archive endpoints of the Docker API cannot write into the tmpfs workspace).
 *
 * If a process cannot be killed from inside (a fork bomb that exhausts the pid limit leaves no room for `kill`),
 * the container is replaced; /workspace is empty afterwards, which callers expect anyway because they reset it.
 */
export class DockerSandbox implements Sandbox {
  private container: Docker.Container | null = null;
  private containerBroken = false;
  imageId = '';

  private constructor(
    private readonly docker: Docker,
    private readonly image: string,
    private readonly limits: SandboxLimits,
    private readonly identity: ContainerIdentity,
    /** Read-only volumes with the user's inputs (see InputVolumes). */
    private readonly mounts: Docker.MountSettings[],
  ) {}

  static async create(
    docker: Docker,
    image: string,
    limits: SandboxLimits,
    identity: ContainerIdentity,
    mounts: Docker.MountSettings[] = [],
  ): Promise<DockerSandbox> {
    const sandbox = new DockerSandbox(docker, image, limits, identity, mounts);
    await sandbox.startContainer();
    return sandbox;
  }

  get containerId(): string | null {
    return this.container?.id ?? null;
  }

  private async startContainer(): Promise<void> {
    const spec = containerSpec(this.image, this.limits, this.identity, this.mounts);
    spec.name = `autolab-${this.identity.runId}-${this.identity.role}-${randomBytes(3).toString('hex')}`;
    let container: Docker.Container;
    try {
      container = await this.docker.createContainer(spec);
    } catch (err) {
      throw new SandboxError(`cannot create a sandbox from image ${this.image}: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.container = container;
    await container.start();
    const info = await container.inspect();
    this.imageId = info.Image;
    this.containerBroken = false;
  }

  private async liveContainer(): Promise<Docker.Container> {
    if (this.containerBroken || !this.container) {
      await this.removeContainer();
      await this.startContainer();
    }
    return this.container!;
  }

  async reset(): Promise<void> {
    await this.killAll();
    // The inputs' read-only mounts live under /workspace/input: everything else goes.
    const result = await this.run(
      [
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
      ],
      30_000,
    );
    if (result.exitCode !== 0) throw new SandboxError(`cannot clear /workspace: ${result.stderr.text.slice(-500)}`);
  }

  async writeFiles(files: SandboxFile[]): Promise<void> {
    const archive = await packFiles(files);
    const container = await this.liveContainer();
    const exec = await container.exec({
      Cmd: ['tar', '-x', '-C', '/workspace', '-f', '-'],
      User: USER,
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: true });
    const errors = new CappedOutput(4096, 4096);
    const sink = new Writable({
      write(chunk, _enc, cb) {
        errors.push(chunk);
        cb();
      },
    });
    this.docker.modem.demuxStream(stream, sink, sink);
    const ended = new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', reject);
    });
    stream.end(archive);
    await ended;
    const { ExitCode } = await exec.inspect();
    if (ExitCode !== 0) throw new SandboxError(`writing files into the sandbox failed: ${errors.result().text}`);
  }

  async readFiles(limits: ReadFilesLimits): Promise<{ files: SandboxFile[]; skipped: string[] }> {
    const container = await this.liveContainer();
    const exec = await container.exec({
      Cmd: ['tar', '-c', '-C', '/workspace', '-f', '-', '.'],
      User: USER,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    stderr.resume();
    this.docker.modem.demuxStream(stream, stdout, stderr);
    stream.on('end', () => stdout.end());
    stream.on('close', () => stdout.end());
    return unpackFiles(stdout, limits);
  }

  /** Runs a command to completion under the timeout; the experiment path. */
  async exec(command: string[], options: ExecOptions): Promise<ExecResult> {
    const container = await this.liveContainer();
    const started = Date.now();
    const exec = await container.exec({
      Cmd: command,
      User: USER,
      WorkingDir: '/workspace',
      Env: Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`),
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({ hijack: true, stdin: false });
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
    const streamEnded = new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
      stream.on('error', () => resolve());
    });
    const stop = async () => {
      await this.killAll();
      const finished = await Promise.race([streamEnded.then(() => true), delay(KILL_GRACE_MS).then(() => false)]);
      if (!finished) {
        // The kill did not take (pid limit exhausted, daemon trouble): throw the container away.
        this.containerBroken = true;
        await this.container?.kill().catch(() => undefined);
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

    await streamEnded;
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onAbort);
    if (stopping) await stopping;

    let exitCode: number | null = null;
    if (!this.containerBroken) {
      const info = await exec.inspect().catch(() => null);
      exitCode = info?.ExitCode ?? null;
    }
    const killed = timedOut || aborted;
    return {
      exitCode,
      timedOut,
      outOfMemory: !killed && exitCode === 137,
      durationMs: Date.now() - started,
      stdout: outputs.stdout.result(),
      stderr: outputs.stderr.result(),
    };
  }

  /** Kills every process of the sandbox user. The container's keep-alive process belongs to another user. */
  private async killAll(): Promise<void> {
    if (!this.container || this.containerBroken) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await this.run(['kill', '-KILL', '-1'], 5000, false);
        return;
      } catch {
        await delay(200);
      }
    }
    this.containerBroken = true;
    await this.container.kill().catch(() => undefined);
  }

  /** A short helper command (no streaming, small output). */
  private async run(command: string[], timeoutMs: number, retryOnBroken = true): Promise<ExecResult> {
    const container = retryOnBroken ? await this.liveContainer() : this.container!;
    const exec = await container.exec({ Cmd: command, User: USER, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const stdout = new CappedOutput(4096, 4096);
    const stderr = new CappedOutput(4096, 4096);
    const sink = (out: CappedOutput) =>
      new Writable({
        write(chunk, _enc, cb) {
          out.push(chunk);
          cb();
        },
      });
    this.docker.modem.demuxStream(stream, sink(stdout), sink(stderr));
    const started = Date.now();
    const ended = await Promise.race([
      new Promise<boolean>((resolve) => {
        stream.on('end', () => resolve(true));
        stream.on('close', () => resolve(true));
        stream.on('error', () => resolve(true));
      }),
      delay(timeoutMs).then(() => false),
    ]);
    if (!ended) {
      stream.destroy();
      throw new SandboxError(`sandbox command timed out: ${command.join(' ')}`);
    }
    const { ExitCode } = await exec.inspect();
    return {
      exitCode: ExitCode,
      timedOut: false,
      outOfMemory: false,
      durationMs: Date.now() - started,
      stdout: stdout.result(),
      stderr: stderr.result(),
    };
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
    if (!this.container || this.containerBroken) return true;
    const running = await this.container.inspect().then(
      (info) => info.State.Running,
      (err: Error) => {
        if (err instanceof SandboxUnavailableError) throw err;
        return false;
      },
    );
    if (!running) this.containerBroken = true;
    return !running;
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());
