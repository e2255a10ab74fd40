/** One dispatched Server-Sent Events message (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface SseMessage {
  /** The last event id seen on the stream so far (ids persist across messages, as in EventSource). */
  id: string | null;
  event: string;
  data: string;
}

/**
 * An incremental SSE parser: feed it text chunks as they arrive (split anywhere, even inside a line or a CRLF) and it
 * returns the messages completed by each chunk. Comments (`: ping`) are skipped; `retry:` updates `retryMs`.
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private eventType = '';
  private sawCr = false;
  private idBuffer: string | null = null;
  /** The id a reconnect should resume after: only ids of completed frames count. */
  lastEventId: string | null = null;
  retryMs: number | null = null;

  push(chunk: string): SseMessage[] {
    const out: SseMessage[] = [];
    let text = chunk;
    // A CR at the end of the previous chunk may be the first half of a CRLF.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buffer += text;
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer[i];
      if (c !== '\n' && c !== '\r') continue;
      const line = this.buffer.slice(start, i);
      if (c === '\r') {
        if (i + 1 < this.buffer.length) {
          if (this.buffer[i + 1] === '\n') i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      const message = this.line(line);
      if (message) out.push(message);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Forgets a half-received message (after the connection dropped); keeps `lastEventId`. */
  reset(): void {
    this.idBuffer = this.lastEventId;
    this.buffer = '';
    this.data = [];
    this.eventType = '';
    this.sawCr = false;
  }

  private line(line: string): SseMessage | null {
    if (line === '') {
      this.lastEventId = this.idBuffer;
      if (this.data.length === 0) {
        this.eventType = '';
        return null;
      }
      const message = { id: this.lastEventId, event: this.eventType || 'message', data: this.data.join('\n') };
      this.data = [];
      this.eventType = '';
      return message;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
    }
    return null;
  }
}
