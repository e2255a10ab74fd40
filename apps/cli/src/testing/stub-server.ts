import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Io } from '../context.js';

export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

export type StubHandler = (request: RecordedRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface StubServer {
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

/** A real HTTP server on a free loopback port that answers with `handler` and records every request. */
export async function startStubServer(handler: StubHandler): Promise<StubServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer(async (raw, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of raw) chunks.push(chunk as Buffer);
    const request = {
      method: raw.method ?? 'GET',
      url: raw.url ?? '/',
      headers: raw.headers,
      body: Buffer.concat(chunks).toString('utf8'),
    };
    requests.push(request);
    try {
      await handler(request, res, raw);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 500, { error: { code: 'stub_failed', message: String(error) } });
      else res.destroy();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const notFound = (res: ServerResponse, code = 'not_found', message = 'nothing here'): void =>
  sendJson(res, 404, { error: { code, message } });

export interface CaptureOptions {
  /** Pretend stdout is a terminal this many columns wide (the live view draws there). */
  stdoutColumns?: number;
  /** Pretend stderr is a terminal this many columns wide (progress bars go there). */
  stderrColumns?: number;
}

/** An `Io` that keeps what the CLI writes; `interrupt()` plays Ctrl-C to whatever handler the command installed. */
export function captureIo(
  stdin = '',
  options: CaptureOptions = {},
): { io: Io; stdout: () => string; stderr: () => string; interrupt: () => boolean } {
  let out = '';
  let err = '';
  const handlers = new Set<() => void>();
  const tty = (columns: number | undefined) => (columns === undefined ? null : { columns: () => columns });
  return {
    io: {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      readStdin: async () => stdin,
      stdoutTty: tty(options.stdoutColumns),
      stderrTty: tty(options.stderrColumns),
      onInterrupt: (handler) => {
        handlers.add(handler);
        return () => handlers.delete(handler);
      },
    },
    stdout: () => out,
    stderr: () => err,
    interrupt: () => {
      for (const handler of handlers) handler();
      return handlers.size > 0;
    },
  };
}
