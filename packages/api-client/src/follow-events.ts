import { ErrorBody, RunEvent, STREAM_ERROR_EVENT } from '@autolab/contracts';
import type { ApiClient } from './api-client.js';
import { ApiError, networkReason, ProtocolError, UnreachableError } from './errors.js';
import { SseFormatError, SseParser } from './sse.js';

/** One event off the stream: validated when this CLI knows its type, raw either way. */
export interface FollowedEvent {
  id: string;
  type: string;
  /** The event as the server sent it (newer servers may add fields or types). */
  raw: Record<string, unknown>;
  /** `null` when it does not match the contracts (an event type newer than this CLI, for instance). */
  event: RunEvent | null;
}

export interface ReconnectInfo {
  /** Consecutive attempts without progress so far, this one included. */
  attempt: number;
  maxAttempts: number;
  delayMs: number;
  lastEventId: string | null;
  reason: string;
}

export interface FollowOptions {
  /**
   * Consecutive connection attempts that bring nothing (no event, no heartbeat) before giving up; `Infinity` never
   * gives up (the dashboard, which shows that it is reconnecting).
   * @defaultValue 8
   */
  maxAttempts: number;
  /** The first wait before reconnecting; it doubles with each attempt that brings nothing. @defaultValue 500 */
  baseDelayMs: number;
  /** @defaultValue 10000 */
  maxDelayMs: number;
  /**
   * A connection silent for this long (no event and no `: ping`) is presumed dead and replaced.
   * @defaultValue 60000
   */
  idleTimeoutMs: number;
  /** A stream is open (for a "live" badge). */
  onConnected?: () => void;
  onReconnect?: (info: ReconnectInfo) => void;
  onInvalidEvent?: (reason: string) => void;
  /**
   * Asked on every `run.finished`: is the run really over? `true` ends the stream at once; `false` (the run was rerun
   * since, so the log goes on) keeps following. Without it, the stream ends when the server ends it right after a
   * `run.finished` (it does so after the run's final one; a rerun's events follow an earlier one on the same stream).
   */
  confirmFinished?: (event: FollowedEvent) => Promise<boolean>;
  /** Start after this event id instead of at the beginning of the log. */
  after?: string | null;
  /** `after` is a `run.finished`: a stream that ends with nothing new then means the run is still over. */
  afterFinished?: boolean;
  signal?: AbortSignal;
}

/** A `Retry-After` longer than this is not waited for in full (the attempts still run out). */
const MAX_SERVER_DELAY_MS = 60_000;

export const DEFAULT_FOLLOW_OPTIONS: FollowOptions = {
  maxAttempts: 8,
  baseDelayMs: 500,
  maxDelayMs: 10_000,
  idleTimeoutMs: 60_000,
};

/**
 * Every event of a run, each exactly once and in order, up to and including its final `run.finished`: the API
 * client's one way to follow a run, for the CLI and the dashboard. A dropped or silent connection is reopened with
 * `Last-Event-ID` after an exponential backoff (or the server's `Retry-After`, when it asks for longer); errors the
 * server means (4xx but 408/429) and a stream that breaks the format end it.
 */
export async function* followEvents(
  client: ApiClient,
  runId: string,
  options: Partial<FollowOptions> = {},
): AsyncGenerator<FollowedEvent, void, undefined> {
  const settings = { ...DEFAULT_FOLLOW_OPTIONS, ...options };
  const seen = new Set<string>();
  let lastEventId: string | null = settings.after ?? null;
  /** The last event followed is a `run.finished`: a stream the server then ends means the run is over. */
  let atFinish = settings.afterFinished ?? false;
  let failures = 0;

  while (true) {
    let progressed = false;
    let reason: string;
    let serverDelayMs = 0;
    const connection = new AbortController();
    const abortConnection = () => connection.abort();
    settings.signal?.addEventListener('abort', abortConnection, { once: true });
    let idleTimer: ReturnType<typeof setTimeout> | undefined;
    let idle = false;
    let reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
    const armIdleTimer = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        idle = true;
        connection.abort();
        // Also ends a read that the abort does not reach (a fetch that ignores its signal once the body streams).
        reader?.cancel().catch(() => undefined);
      }, settings.idleTimeoutMs);
    };
    try {
      armIdleTimer();
      const body = await client.openEventStream(runId, { lastEventId, signal: connection.signal });
      settings.onConnected?.();
      reader = body.getReader();
      const parser = new SseParser();
      // The decoder keeps a code point split across chunks until its remaining bytes arrive.
      const decoder = new TextDecoder('utf-8');
      let streamError: ErrorBody['error'] | null = null;
      let gotEvent = false;
      let ended = false;
      reading: while (!ended) {
        const chunk = await reader.read();
        ended = chunk.done;
        if (!chunk.done) {
          progressed = true;
          armIdleTimer();
        }
        const text = chunk.done ? decoder.decode() : decoder.decode(chunk.value, { stream: true });
        const messages = chunk.done ? [...parser.push(text), ...parser.end()] : parser.push(text);
        for (const message of messages) {
          if (message.event === STREAM_ERROR_EVENT) {
            streamError = parseStreamError(message.data);
            break reading;
          }
          const followed = toFollowedEvent(message.data, message.id, settings.onInvalidEvent);
          if (!followed) continue;
          lastEventId = message.id || followed.id;
          if (seen.has(followed.id)) continue;
          seen.add(followed.id);
          gotEvent = true;
          // A rerun appends run.requeued and more after an earlier run.finished: only the last event counts.
          atFinish = followed.type === 'run.finished';
          yield followed;
          if (atFinish && settings.confirmFinished) {
            if (await settings.confirmFinished(followed)) return;
            // Live again (a rerun): the stream's end is no longer the run's.
            atFinish = false;
          }
        }
      }
      if (idle) throw new Error('silent connection'); // the read ended because the idle timer cancelled it
      if (streamError) {
        // The server said why it stopped (its store is down, say): that is no progress, and it says when to retry.
        progressed = gotEvent;
        reason = `${streamError.code}: ${streamError.message}`;
        const retryAfter = (streamError.details as { retryAfterSeconds?: unknown } | undefined)?.retryAfterSeconds;
        serverDelayMs = typeof retryAfter === 'number' ? retryAfter * 1000 : 0;
      } else if (atFinish) {
        // The server ends the stream right after the run's final run.finished.
        return;
      } else reason = 'the server closed the stream before the run finished';
    } catch (error) {
      if (settings.signal?.aborted) throw error;
      // A stream that breaks the format is the server's fault, and reconnecting would get the same.
      if (error instanceof SseFormatError) throw new ProtocolError(`event stream of ${runId}: ${error.message}`);
      if (!idle && !isRetryable(error)) throw error;
      reason = idle ? `no data for ${seconds(settings.idleTimeoutMs)}` : describeFailure(error);
      serverDelayMs =
        error instanceof ApiError && error.retryAfterSeconds !== null ? error.retryAfterSeconds * 1000 : 0;
    } finally {
      clearTimeout(idleTimer);
      settings.signal?.removeEventListener('abort', abortConnection);
      connection.abort();
      await reader?.cancel().catch(() => undefined);
    }

    failures = progressed ? 1 : failures + 1;
    if (failures > settings.maxAttempts) {
      throw new UnreachableError(
        `lost the event stream of ${runId} and could not resume it after ${settings.maxAttempts} attempts (${reason})`,
      );
    }
    const delayMs = Math.max(
      backoff(failures, settings.baseDelayMs, settings.maxDelayMs),
      Math.min(serverDelayMs, MAX_SERVER_DELAY_MS),
    );
    settings.onReconnect?.({ attempt: failures, maxAttempts: settings.maxAttempts, delayMs, lastEventId, reason });
    await sleep(delayMs, settings.signal);
  }
}

/** The error of a `stream.error` frame; a frame in another shape still ends the stream, with a generic reason. */
function parseStreamError(data: string): ErrorBody['error'] {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(data));
    if (parsed.success) return parsed.data.error;
  } catch {
    // not JSON: fall through
  }
  return { code: 'stream_error', message: 'the server ended the stream with an error' };
}

function toFollowedEvent(
  data: string,
  sseId: string | null,
  onInvalid: ((reason: string) => void) | undefined,
): FollowedEvent | null {
  let raw: unknown;
  try {
    raw = JSON.parse(data);
  } catch {
    onInvalid?.(`skipped an event whose data is not JSON (id ${sseId ?? 'none'})`);
    return null;
  }
  if (typeof raw !== 'object' || raw === null || typeof (raw as { type?: unknown }).type !== 'string') {
    onInvalid?.(`skipped an event without a type (id ${sseId ?? 'none'})`);
    return null;
  }
  const record = raw as Record<string, unknown>;
  const id = typeof record.id === 'string' ? record.id : sseId;
  if (!id) {
    onInvalid?.('skipped an event without an id');
    return null;
  }
  const parsed = RunEvent.safeParse(raw);
  return { id, type: record.type as string, raw: record, event: parsed.success ? parsed.data : null };
}

/** Worth another connection: the network, a server restarting (5xx), a proxy timing out (408/429). */
function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.status >= 500 || error.status === 408 || error.status === 429;
  if (error instanceof ProtocolError) return false;
  return true;
}

function describeFailure(error: unknown): string {
  if (error instanceof ApiError) return `${error.status} ${error.code}`;
  if (error instanceof UnreachableError) return error.message;
  return `connection lost: ${networkReason(error)}`;
}

/** `0.3s`, `60s`: how long a connection was silent. */
const seconds = (ms: number) => `${ms < 10_000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)}s`;

/** Exponential, capped, with ±20% jitter so many watchers do not reconnect in step after a server restart. */
export function backoff(attempt: number, baseMs: number, maxMs: number): number {
  const exact = Math.min(maxMs, baseMs * 2 ** (attempt - 1));
  return Math.round(exact * (0.8 + Math.random() * 0.4));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
