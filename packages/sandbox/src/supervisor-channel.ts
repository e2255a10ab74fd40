import { Writable } from 'node:stream';
import type Docker from 'dockerode';
import { CappedOutput } from './capped-output.js';

/** Frames the supervisor sends, and the largest payload each may have (anything else breaks the protocol). */
const MAX_PAYLOAD: Record<string, number> = {
  r: 0,
  F: 64 * 1024,
  o: 64 * 1024,
  e: 64 * 1024,
  x: 1024,
  '!': 1024,
  // The listing is capped by the worker's `listingMaxBytes` (see `SupervisorChannel.maxListingBytes`).
  L: 0,
  t: 64 * 1024,
  z: 64 * 1024,
};

export interface Frame {
  kind: string;
  payload: Buffer;
}

/** The channel ended: the container stopped, the stream broke, or the supervisor broke the protocol. */
export interface ChannelEnd {
  end: string;
}

/**
 * The worker's side of the supervisor's protocol: one attach stream per container, kept for the container's life.
 * Frames are 1 byte kind, 4 bytes big-endian length, payload. What the supervisor sends is never trusted: an unknown
 * kind or an oversized frame ends the channel (the container is then replaced), and every wait has a time limit.
 */
export class SupervisorChannel {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly frames: Frame[] = [];
  private waiter: (() => void) | null = null;
  private ended: string | null = null;
  /** What the supervisor itself wrote on stderr (a Python traceback if it failed): for error messages. */
  private readonly stderr = new CappedOutput(2048, 2048);

  private constructor(
    private readonly stream: NodeJS.ReadWriteStream & { destroy(): void },
    private readonly maxListingBytes: number,
  ) {}

  static async attach(
    docker: Docker,
    container: Docker.Container,
    maxListingBytes: number,
  ): Promise<SupervisorChannel> {
    const stream = (await container.attach({
      stream: true,
      hijack: true,
      stdin: true,
      stdout: true,
      stderr: true,
    })) as NodeJS.ReadWriteStream & { destroy(): void };
    const channel = new SupervisorChannel(stream, maxListingBytes);
    docker.modem.demuxStream(
      stream,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          channel.receive(chunk);
          cb();
        },
      }),
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          channel.stderr.push(chunk);
          cb();
        },
      }),
    );
    stream.on('end', () => channel.finish('the sandbox supervisor closed its stream'));
    stream.on('close', () => channel.finish('the sandbox supervisor closed its stream'));
    stream.on('error', (err: Error) => channel.finish(`the sandbox supervisor's stream failed: ${err.message}`));
    return channel;
  }

  /** Why the channel ended, or null while it is open. */
  get endReason(): string | null {
    return this.ended;
  }

  /** The supervisor's own error output, if any (trimmed). */
  get diagnostics(): string {
    return this.stderr.result().text.trim();
  }

  send(kind: string, payload: Buffer = Buffer.alloc(0)): void {
    if (this.ended) return;
    const header = Buffer.alloc(5);
    header.write(kind, 0, 'latin1');
    header.writeUInt32BE(payload.length, 1);
    this.stream.write(Buffer.concat([header, payload]));
  }

  /** The next frame, or why the channel ended, or 'timeout' after `timeoutMs` without one. */
  async next(timeoutMs: number): Promise<Frame | ChannelEnd | 'timeout'> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const frame = this.frames.shift();
      if (frame) return frame;
      if (this.ended) return { end: this.ended };
      const left = deadline - Date.now();
      if (left <= 0) return 'timeout';
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.waiter = resolve;
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
      this.waiter = null;
    }
  }

  /** Ends the channel (the container is being replaced or removed). */
  close(reason = 'the sandbox supervisor channel was closed'): void {
    this.finish(reason);
    this.stream.destroy();
  }

  private receive(chunk: Buffer): void {
    if (this.ended) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (this.buffer.length >= 5) {
      const kind = String.fromCharCode(this.buffer[0]!);
      const size = this.buffer.readUInt32BE(1);
      const max = kind === 'L' ? this.maxListingBytes : MAX_PAYLOAD[kind];
      if (max === undefined || size > max) {
        this.close(`the sandbox supervisor broke its protocol (frame ${JSON.stringify(kind)} of ${size} bytes)`);
        return;
      }
      if (this.buffer.length < 5 + size) break;
      this.frames.push({ kind, payload: Buffer.from(this.buffer.subarray(5, 5 + size)) });
      this.buffer = this.buffer.subarray(5 + size);
    }
    this.wake();
  }

  private finish(reason: string): void {
    this.ended ??= reason;
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }
}
