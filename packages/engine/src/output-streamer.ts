type Stream = 'stdout' | 'stderr';

export interface OutputStreamerOptions {
  /** Batch output for this long before emitting it. @defaultValue 300 */
  flushMs?: number;
  /** Stream at most this many characters per experiment; the rest is only in the saved output. @defaultValue 65536 */
  maxChars?: number;
}

/**
 * Turns a program's output into a modest number of `exec.output` events: chunks are batched for a moment,
 * consecutive chunks of one stream are merged, order is kept, and a flood stops being streamed after a cap
 * (the ExecResult keeps the head and the tail regardless).
 */
export class OutputStreamer {
  private pending: { stream: Stream; text: string }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private streamed = 0;
  private capped = false;
  private readonly flushMs: number;
  private readonly maxChars: number;

  constructor(
    private readonly emit: (stream: Stream, text: string) => Promise<void>,
    options: OutputStreamerOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 300;
    this.maxChars = options.maxChars ?? 65_536;
  }

  push = (stream: Stream, chunk: string): void => {
    if (this.capped || chunk.length === 0) return;
    const room = this.maxChars - this.streamed;
    const text = chunk.length > room ? chunk.slice(0, room) : chunk;
    this.streamed += text.length;
    const last = this.pending.at(-1);
    if (last?.stream === stream) last.text += text;
    else this.pending.push({ stream, text });
    if (this.streamed >= this.maxChars) {
      this.capped = true;
      this.pending.push({
        stream: 'stderr',
        text: '\n[autolab: further output is not streamed; the saved output keeps its end]\n',
      });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.flushMs);
  };

  /** Emits everything pending; resolves when all emitted events are written. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    this.pending = [];
    for (const { stream, text } of batch)
      this.chain = this.chain.then(() => this.emit(stream, text)).catch(() => undefined);
    return this.chain;
  }
}
