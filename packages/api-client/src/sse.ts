import { createParser, type EventSourceParser } from 'eventsource-parser';

/**
 * Server-Sent Events for both clients of the API (the CLI and the dashboard): the `text/event-stream` format is
 * parsed by eventsource-parser; this adds what both need on top of it — the id to resume from, `retry:`, a count of
 * heartbeat comments, a bound on what a stream may buffer, and reading a fetch body as a stream of events.
 */

/** One dispatched event. */
export interface SseMessage {
  /** The stream's last event id when this event was dispatched (it persists across events); `null` before any. */
  id: string | null;
  /** The `event:` field, `message` when the event had none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

/** The stream broke the format's bounds (a line or event larger than `maxBufferChars`). */
export class SseFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** More than any event of this API: an event stream that buffers this much without a line break is broken. */
const MAX_BUFFER_CHARS = 16 * 1024 * 1024;

/**
 * Incremental: feed it text in chunks split anywhere (inside a line or a CRLF) and it hands back the events each chunk
 * completed. An event still open when the stream ends is never dispatched. An `id:` counts once its event is
 * dispatched; an event without data is not dispatched (the API never sends one).
 */
export class SseParser {
  /** The id a reconnect should resume after (`Last-Event-ID`). */
  lastEventId: string | null = null;
  /** The last `retry:` value the server sent, in milliseconds. */
  retryMs: number | null = null;
  /** Comment lines seen (heartbeats such as `: ping`). */
  comments = 0;

  private readonly parser: EventSourceParser;
  private completed: SseMessage[] = [];
  private failure: SseFormatError | null = null;
  private heldCr = false;
  private atStart = true;

  constructor(maxBufferChars = MAX_BUFFER_CHARS) {
    this.parser = createParser({
      maxBufferSize: maxBufferChars,
      onEvent: (event) => {
        if (event.id !== undefined) this.lastEventId = event.id;
        this.completed.push({ id: this.lastEventId, event: event.event ?? 'message', data: event.data });
      },
      onRetry: (ms) => {
        this.retryMs = ms;
      },
      onComment: () => {
        this.comments++;
      },
      onError: (error) => {
        // A malformed `retry:` or an unknown field is ignored, as the format says; only the bound is fatal.
        if (error.type === 'max-buffer-size-exceeded') this.failure = new SseFormatError(error.message);
      },
    });
  }

  push(text: string): SseMessage[] {
    // Line breaks reach eventsource-parser as LF only: it loses CRLFs and lone CRs split across two feeds. A CR that
    // ends a chunk may be the first half of a CRLF, so it waits for the next chunk.
    let chunk = this.heldCr ? `\r${text}` : text;
    // A byte-order mark opens the stream at most once (a TextDecoder strips it already; text fed by hand may not).
    if (this.atStart && chunk.length > 0) {
      this.atStart = false;
      if (chunk.startsWith('\ufeff')) chunk = chunk.slice(1);
    }
    this.heldCr = chunk.endsWith('\r');
    if (this.heldCr) chunk = chunk.slice(0, -1);
    if (chunk.length > 0) this.parser.feed(chunk.replace(/\r\n?/g, '\n'));
    return this.take();
  }

  /** The stream ended: a CR still held ends its line. */
  end(): SseMessage[] {
    if (this.heldCr) this.parser.feed('\n');
    this.heldCr = false;
    return this.take();
  }

  private take(): SseMessage[] {
    if (this.failure) throw this.failure;
    const completed = this.completed;
    this.completed = [];
    return completed;
  }

  /** Forgets a half-received event (after the connection dropped); keeps `lastEventId`. */
  reset(): void {
    this.parser.reset();
    this.heldCr = false;
    this.atStart = true;
    this.completed = [];
    this.failure = null;
  }
}

export interface ReadSseOptions {
  /** Called for every chunk received, heartbeats included: proof that the connection is alive. */
  onChunk?: (bytes: number) => void;
}

/**
 * The events of a `text/event-stream` body, in order. Stopping early (break/return) cancels the body, which closes
 * the connection.
 */
export async function* readSse(
  body: ReadableStream<Uint8Array>,
  options: ReadSseOptions = {},
): AsyncGenerator<SseMessage, void, undefined> {
  const parser = new SseParser();
  // The decoder keeps a code point split across chunks until its remaining bytes arrive.
  const decoder = new TextDecoder('utf-8');
  const reader = body.getReader();
  let finished = false;
  try {
    while (true) {
      const { done, value } = await reader.read();
      if (done) break;
      options.onChunk?.(value.byteLength);
      yield* parser.push(decoder.decode(value, { stream: true }));
    }
    finished = true;
    yield* parser.push(decoder.decode());
    yield* parser.end();
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
