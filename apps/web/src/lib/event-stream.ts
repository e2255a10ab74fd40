import { type ApiClient, followEvents as followRunEvents } from '@autolab/api-client';
import type { RunEvent } from '@autolab/contracts';

export interface EventStreamOptions {
  /** Opens the stream (with the key it holds). */
  client: ApiClient;
  runId: string;
  /** Resume after this event id (sent as `Last-Event-ID`). */
  lastEventId?: string | null;
  /** That event was a run.finished: a stream that ends at once then means "still finished", not a drop. */
  lastEventWasFinish?: boolean;
  onEvent: (event: RunEvent) => void;
  /** Connection state changes, for a "live / reconnecting" badge. */
  onState?: (state: StreamState, detail?: string) => void;
  /** The first wait before reconnecting (ms); it doubles after each attempt that brings nothing. */
  retryMs?: number;
  /** Longest wait between reconnects (ms). */
  maxRetryMs?: number;
  /** A connection silent this long (no event, no heartbeat) is replaced (ms). */
  idleTimeoutMs?: number;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'finished' | 'error' | 'closed';

/**
 * Follows a run's events for a page: the API client's `followEvents` (the CLI's too: resumes with `Last-Event-ID`,
 * drops duplicates, replaces a silent connection, honours the server's `Retry-After`), never giving up while the page
 * is open, its progress told as states for the badge. Ends when the run's final `run.finished` has come, on an error
 * that retrying cannot mend (404, 401, 403), or on `close()`.
 */
export function followEvents(options: EventStreamOptions): { close(): void; done: Promise<void> } {
  const controller = new AbortController();
  const setState = (state: StreamState, detail?: string) => options.onState?.(state, detail);
  const done = (async () => {
    setState('connecting');
    try {
      const events = followRunEvents(options.client, options.runId, {
        after: options.lastEventId ?? null,
        afterFinished: options.lastEventWasFinish ?? false,
        maxAttempts: Number.POSITIVE_INFINITY,
        baseDelayMs: options.retryMs ?? 2000,
        maxDelayMs: options.maxRetryMs ?? 15_000,
        ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
        signal: controller.signal,
        onConnected: () => setState('live'),
        onReconnect: (info) => setState('reconnecting', info.reason),
      });
      // The page applies what it knows and shows the rest as it came (an event type newer than the dashboard).
      for await (const followed of events) options.onEvent((followed.event ?? followed.raw) as RunEvent);
      setState('finished');
    } catch (err) {
      if (controller.signal.aborted) setState('closed');
      else setState('error', err instanceof Error ? err.message : String(err));
    }
  })();
  return {
    close() {
      controller.abort();
    },
    done,
  };
}
