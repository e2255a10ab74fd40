import { connect } from 'node:net';

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** The answer parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
  /** Milliseconds from the first byte sent to the answer's end (or the socket's close). */
  elapsedMs: number;
  /** True when the server closed the connection after answering. */
  closed: boolean;
  /** With `untilClose`: milliseconds from the first byte sent to the server closing the connection. */
  closedAfterMs?: number;
  /** With `untilClose`: whatever came after the first answer (nothing, on a well-behaved server). */
  trailing?: string;
}

/**
 * Sends bytes exactly as given on a fresh TCP connection (no client library to tidy up a malformed request) and reads
 * one HTTP/1.1 answer: until its Content-Length is in, or the server closes the connection. `chunks` are written one
 * after another, `gapMs` apart: a slow client.
 */
export function rawHttp(
  port: number,
  chunks: (string | Buffer)[],
  options: { gapMs?: number; timeoutMs?: number; host?: string; untilClose?: boolean } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: options.host ?? '127.0.0.1' });
    const started = Date.now();
    let received = Buffer.alloc(0);
    let settled = false;
    let closed = false;
    let first: RawAnswer | null = null;
    let firstLength = 0;
    const timer = setTimeout(
      () => finish(new Error(`no answer within ${options.timeoutMs ?? 15_000} ms`)),
      options.timeoutMs ?? 15_000,
    );

    const parse = (): RawAnswer | null => {
      const end = received.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const head = received.subarray(0, end).toString('latin1').split('\r\n');
      const status = Number(head[0]?.split(' ')[1] ?? 0);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const body = received.subarray(end + 4);
      const length = headers['content-length'] === undefined ? null : Number(headers['content-length']);
      if (length === null ? !closed : body.length < length) return null;
      firstLength = end + 4 + (length ?? body.length);
      const text = body.subarray(0, length ?? body.length).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status, headers, body: text, json, elapsedMs: Date.now() - started, closed };
    };

    function finish(err: Error | null, answer?: RawAnswer) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(answer!);
    }

    socket.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      first ??= parse();
      if (first && !options.untilClose) finish(null, first);
    });
    socket.on('close', () => {
      closed = true;
      first ??= parse();
      if (!first) return finish(new Error(`connection closed without an answer after ${Date.now() - started} ms`));
      if (!options.untilClose) return finish(null, { ...first, closed });
      finish(null, {
        ...first,
        closed,
        closedAfterMs: Date.now() - started,
        trailing: received.subarray(firstLength).toString('latin1'),
      });
    });
    socket.on('error', () => undefined);
    socket.on('connect', async () => {
      for (const [index, chunk] of chunks.entries()) {
        if (settled || socket.destroyed) return;
        if (index > 0 && options.gapMs) await new Promise((r) => setTimeout(r, options.gapMs));
        if (settled || socket.destroyed) return;
        socket.write(chunk);
      }
    });
  });
}
