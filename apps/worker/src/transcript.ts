import type { TranscriptEntry } from '@autolab/llm';
import type { ArtifactStore } from '@autolab/store';
import { redactText } from './secrets.js';

/** A chunk is written once this many bytes are waiting … */
const CHUNK_BYTES = 256 * 1024;
/** … or this long after the first of them arrived, whichever comes first. */
const CHUNK_DELAY_MS = 2_000;

/**
 * The run's full model transcript, one JSON line per call, in `transcript.jsonl`. Secrets are removed before a line
 * is kept: the model key never appears in prompts, but a line is scrubbed anyway in case a reply echoes one.
 *
 * Lines are written in chunks (one `append` per chunk, not per line): on S3 every append is an object of its own,
 * which the store's reader concatenates. A chunk that cannot be written stays queued and goes with the next one, so
 * a short store outage loses no line; `close()` writes what is left when the attempt ends. What a killed worker had
 * not written yet (at most the last CHUNK_DELAY_MS) is lost.
 */
export class Transcript {
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly runId: string,
    private readonly secrets: string[],
    private readonly onError: (err: Error, lines: number) => void = () => undefined,
  ) {}

  append(entry: TranscriptEntry): void {
    const line = redactText(JSON.stringify(entry), this.secrets);
    this.pending.push(`${line}\n`);
    this.pendingBytes += Buffer.byteLength(line) + 1;
    if (this.pendingBytes >= CHUNK_BYTES) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), CHUNK_DELAY_MS);
  }

  /** Writes every line received so far as one chunk (after any write still under way). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing = this.writing.then(async () => {
      if (this.pending.length === 0) return;
      const lines = this.pending;
      const chunk = lines.join('');
      this.pending = [];
      this.pendingBytes = 0;
      try {
        await this.artifacts.append(this.runId, 'transcript.jsonl', chunk);
      } catch (err) {
        // Kept, in order, ahead of anything newer: the next flush tries them again.
        this.pending = [...lines, ...this.pending];
        this.pendingBytes += Buffer.byteLength(chunk);
        this.onError(err as Error, lines.length);
      }
    });
    return this.writing;
  }

  /** Writes what is left; returns how many lines could still not be written (they are dropped). */
  async close(): Promise<number> {
    await this.flush();
    const lost = this.pending.length;
    this.pending = [];
    this.pendingBytes = 0;
    return lost;
  }
}
