import { type ApiClient, ApiError } from '@autolab/api-client';
import { SseParser } from '@autolab/api-client/sse';
import { type RunEvent, STREAM_ERROR_EVENT } from '@autolab/contracts';

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
  /** Wait before reconnecting when the server sent no `retry:` (ms). */
  retryMs?: number;
  /** Longest wait between reconnects (ms); the wait doubles after each failed attempt. */
  maxRetryMs?: number;
}

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'finished' | 'error' | 'closed';

/** HTTP statuses that will not get better by retrying. */
const FATAL = new Set([400, 401, 403, 404]);

/**
 * Follows a run's SSE stream through the API client (fetch, so it can send `Authorization`, which EventSource cannot). After a drop
 * it reconnects with `Last-Event-ID`; events are deduplicated by id. Ends when the server ends the stream right after a
 * `run.finished` (the run's final one: a rerun continues the same stream), or on `close()`.
 */
export function followEvents(options: EventStreamOptions): { close(): void; done: Promise<void> } {
  const controller = new AbortController();
  const parser = new SseParser();
  let lastId = options.lastEventId ?? null;
  const seen = new Set<string>();
  /** Whether the last event applied is a run.finished: the server ends the stream after the run's final one. */
  let atFinish = options.lastEventWasFinish ?? false;
  let failures = 0;
  const setState = (state: StreamState, detail?: string) => options.onState?.(state, detail);

  const handle = (data: string) => {
    let event: RunEvent;
    try {
      event = JSON.parse(data) as RunEvent;
    } catch {
      return;
    }
    if (!event || typeof event.id !== 'string' || seen.has(event.id)) return;
    seen.add(event.id);
    lastId = event.id;
    options.onEvent(event);
    // A rerun appends run.requeued and more after an earlier run.finished: only the last event counts.
    atFinish = event.type === 'run.finished';
  };

  /** Why the last connection ended early, when the server said (a `stream.error` frame). */
  let dropReason: string | undefined;

  const connectOnce = async (): Promise<'ended' | 'dropped' | 'fatal'> => {
    dropReason = undefined;
    let body: ReadableStream<Uint8Array>;
    try {
      body = await options.client.openEventStream(options.runId, { lastEventId: lastId, signal: controller.signal });
    } catch (err) {
      // Network trouble and answers that are not a stream are thrown on, and retried below.
      if (!(err instanceof ApiError)) throw err;
      const fatal = FATAL.has(err.status);
      setState(fatal ? 'error' : 'reconnecting', err.message);
      return fatal ? 'fatal' : 'dropped';
    }
    setState('live');
    failures = 0;
    parser.reset();
    // A `stream.error` frame ends the stream: the badge says why, and the next attempt waits for its `retry:`.
    let streamError: string | null = null;
    const take = (message: { event: string; data: string }) => {
      if (message.event === STREAM_ERROR_EVENT) streamError = errorMessage(message.data) ?? 'the stream failed';
      else handle(message.data);
    };
    // The decoder keeps a code point split across chunks until its remaining bytes arrive.
    const decoder = new TextDecoder('utf-8');
    const reader = body.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      for (const message of parser.push(decoder.decode(value, { stream: true }))) take(message);
    }
    for (const message of [...parser.push(decoder.decode()), ...parser.end()]) take(message);
    if (streamError) {
      dropReason = streamError;
      return 'dropped';
    }
    // The server ends the stream right after the run's final run.finished; any other end is a drop.
    return atFinish ? 'ended' : 'dropped';
  };

  const done = (async () => {
    setState('connecting');
    while (!controller.signal.aborted) {
      let outcome: 'ended' | 'dropped' | 'fatal';
      try {
        outcome = await connectOnce();
      } catch (err) {
        if (controller.signal.aborted) break;
        setState('reconnecting', err instanceof Error ? err.message : String(err));
        outcome = 'dropped';
      }
      if (outcome === 'ended') {
        setState('finished');
        return;
      }
      if (outcome === 'fatal') return;
      failures++;
      if (outcome === 'dropped') setState('reconnecting', dropReason);
      const base = parser.retryMs ?? options.retryMs ?? 2000;
      const wait = Math.min(options.maxRetryMs ?? 15_000, base * 2 ** Math.max(0, failures - 1));
      await sleep(wait, controller.signal);
    }
    setState('closed');
  })();

  return {
    close() {
      controller.abort();
    },
    done,
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });
}

/** The message of a body in the documented error shape (a `stream.error` frame's data), or null. */
function errorMessage(text: string): string | null {
  try {
    const body = JSON.parse(text) as { error?: { message?: string } };
    return body.error?.message ?? null;
  } catch {
    return null;
  }
}
