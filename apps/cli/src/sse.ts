import { ProtocolError } from './errors.js';

/** One dispatched Server-Sent Event. */
export interface SseMessage {
  /** The stream's last event id when this event was dispatched (sticky, as in the spec); `null` before any `id:`. */
  id: string | null;
  /** The `event:` field, `message` when the event had none. */
  event: string;
  /** The `data:` lines joined with `\n`. */
  data: string;
}

const LF = 10;
const CR = 13;
const MAX_LINE_CHARS = 16 * 1024 * 1024;

/**
 * An incremental parser for the `text/event-stream` format (WHATWG HTML, "Server-sent events"): feed it text in
 * chunks split anywhere, it hands back the events completed so far. Lines end in CRLF, LF or CR; `:` lines are
 * comments; an event ends at a blank line, and an event still open when the stream ends is dropped.
 */
export class SseParser {
  /** The last `retry:` value the server sent, in milliseconds. */
  retryMs: number | null = null;
  /** Comment lines seen (heartbeats such as `: ping`). */
  comments = 0;

  private partialLine = '';
  private lastChunkEndedInCr = false;
  private atStart = true;
  private lastEventId: string | null = null;
  private eventType = '';
  private dataLines: string[] = [];

  push(text: string): SseMessage[] {
    const messages: SseMessage[] = [];
    if (text.length === 0) return messages;
    let start = 0;
    if (this.atStart) {
      this.atStart = false;
      if (text.charCodeAt(0) === 0xfeff) start = 1;
    }
    if (this.lastChunkEndedInCr) {
      this.lastChunkEndedInCr = false;
      if (text.charCodeAt(start) === LF) start++;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== LF && c !== CR) continue;
      const line = this.partialLine + text.slice(start, i);
      this.partialLine = '';
      this.processLine(line, messages);
      if (c === CR) {
        if (i + 1 === text.length) this.lastChunkEndedInCr = true;
        else if (text.charCodeAt(i + 1) === LF) i++;
      }
      start = i + 1;
    }
    this.partialLine += text.slice(start);
    if (this.partialLine.length > MAX_LINE_CHARS) {
      throw new ProtocolError(`event stream line longer than ${MAX_LINE_CHARS} characters`);
    }
    return messages;
  }

  private processLine(line: string, messages: SseMessage[]): void {
    if (line.length === 0) {
      this.dispatch(messages);
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.comments++;
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.eventType = value;
        break;
      case 'data':
        this.dataLines.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored, as the spec says.
        break;
    }
  }

  private dispatch(messages: SseMessage[]): void {
    const type = this.eventType;
    const data = this.dataLines;
    this.eventType = '';
    this.dataLines = [];
    if (data.length === 0) return;
    messages.push({ id: this.lastEventId, event: type || 'message', data: data.join('\n') });
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
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
    reader.releaseLock();
  }
}
