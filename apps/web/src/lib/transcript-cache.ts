import { type ModelCall, parseTranscript } from './transcript.js';

export type TranscriptState =
  | { state: 'loading' }
  | { state: 'ready'; calls: ModelCall[] }
  | { state: 'error'; message: string; status?: number };

interface Entry {
  state: TranscriptState;
  /** The version (the run's count of model calls, from its events) the copy was read for; -1 before any read. */
  version: number;
  /** The newest version asked for. */
  wanted: number;
  reading: boolean;
  /** A second look, a few seconds after a read that found nothing new (the worker writes the file in chunks). */
  retry: ReturnType<typeof setTimeout> | null;
  /** The version that second look was for: one per version, never a loop. */
  retriedFor: number;
}

export interface TranscriptCacheOptions {
  /** Reads the run's `transcript.jsonl` whole. */
  read: (runId: string) => Promise<string>;
  /** Runs whose transcript is kept (the least recently used goes first). */
  maxRuns?: number;
  /** Wait before looking again when a read for a newer version found no new call. */
  retryMs?: number;
}

/**
 * The runs' model transcripts, each read once and kept: opening the transcript view again, or another node's calls,
 * reads nothing. A live run's copy is read again only when the run's events say it made more model calls (`want` with
 * a higher version), and one view's read serves every view that waits for it.
 */
const LOADING: TranscriptState = { state: 'loading' };

export class TranscriptCache {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<() => void>();
  private readonly maxRuns: number;
  private readonly retryMs: number;

  constructor(private readonly options: TranscriptCacheOptions) {
    this.maxRuns = options.maxRuns ?? 4;
    this.retryMs = options.retryMs ?? 4000;
  }

  get(runId: string): TranscriptState {
    return this.entries.get(runId)?.state ?? LOADING;
  }

  /** Bound, so React's useSyncExternalStore keeps one subscription. */
  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  /** Makes the copy of the run's transcript at least as new as `version`: reads it unless it is already. */
  want(runId: string, version: number): void {
    let entry = this.entries.get(runId);
    if (entry) this.entries.delete(runId);
    entry ??= { state: LOADING, version: -1, wanted: -1, reading: false, retry: null, retriedFor: -1 };
    // Most recently used last, so the first is the one to drop.
    this.entries.set(runId, entry);
    for (const [id, old] of this.entries) {
      if (this.entries.size <= this.maxRuns) break;
      if (old.reading) continue;
      if (old.retry) clearTimeout(old.retry);
      this.entries.delete(id);
    }
    entry.wanted = Math.max(entry.wanted, version);
    if (!entry.reading && entry.version < entry.wanted) void this.read(runId, entry);
  }

  private async read(runId: string, entry: Entry): Promise<void> {
    if (entry.retry) clearTimeout(entry.retry);
    entry.retry = null;
    entry.reading = true;
    const version = entry.wanted;
    const before = entry.state.state === 'ready' ? entry.state.calls.length : -1;
    try {
      entry.state = { state: 'ready', calls: parseTranscript(await this.options.read(runId)) };
    } catch (err) {
      const { message, status } = err as { message?: string; status?: number };
      // A copy already shown stays shown when a later read fails.
      if (entry.state.state !== 'ready') {
        entry.state = { state: 'error', message: message ?? String(err), ...(status ? { status } : {}) };
      }
    }
    entry.version = version;
    entry.reading = false;
    this.notify();
    if (entry.version < entry.wanted) {
      void this.read(runId, entry);
    } else if (entry.retriedFor !== version && (entry.state.state !== 'ready' || entry.state.calls.length === before)) {
      // Newer calls were announced but are not in the file yet: look once more shortly.
      entry.retriedFor = version;
      entry.retry = setTimeout(() => {
        entry.retry = null;
        if (this.entries.get(runId) === entry && !entry.reading) void this.read(runId, entry);
      }, this.retryMs);
    }
  }

  private notify(): void {
    for (const listener of this.listeners) listener();
  }
}
