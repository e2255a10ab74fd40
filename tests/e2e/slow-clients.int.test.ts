import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../api-process.js';
import { rawHttp } from '../raw-http.js';

/**
 * Item 7 of issue 7: a client that sends its request slowly (a few bytes of a body, headers a byte at a time) is
 * answered 408 and disconnected once the request timeout has passed, instead of holding a connection forever. What
 * legitimately takes long — an event stream, a large download read slowly — is not cut. The API runs as its own
 * process with short timeouts.
 */
const HEADERS_TIMEOUT_S = 1;
const BODY_TIMEOUT_S = 2;
const REQUEST_TIMEOUT_S = 5;
const IDLE_TIMEOUT_S = 1;
/** How late an answer may be: Node checks the timeouts of its connections periodically, not at the deadline. */
const SLACK_MS = 1_500;

let api: ApiProcess;
let key: string;
let runId: string;

beforeAll(async () => {
  api = await startApiProcess({
    env: {
      AUTOLAB_HEADERS_TIMEOUT_SECONDS: String(HEADERS_TIMEOUT_S),
      AUTOLAB_BODY_TIMEOUT_SECONDS: String(BODY_TIMEOUT_S),
      AUTOLAB_REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_S),
      AUTOLAB_IDLE_TIMEOUT_SECONDS: String(IDLE_TIMEOUT_S),
      AUTOLAB_SSE_HEARTBEAT_SECONDS: '0.5',
    },
  });
  key = await api.createKey('slow-clients');
  const res = await fetch(`${api.url}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ goal: 'A run whose events are watched for a long time.' }),
  });
  runId = ((await res.json()) as { id: string }).id;
}, 90_000);

afterAll(async () => {
  await api?.stop();
});

const slowBody = (auth: boolean) => [
  'POST /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n' +
    `${auth ? `Authorization: Bearer ${key}\r\n` : ''}\r\n{"goal":`,
  ...Array.from({ length: 40 }, () => ' '),
];

describe('slow clients', () => {
  it('40 connections trickling a 5,000-byte body are answered and closed within the body timeout', async () => {
    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        rawHttp(api.port, slowBody(i % 2 === 0), { gapMs: 200, untilClose: true, timeoutMs: 20_000 }),
      ),
    );
    const limit = BODY_TIMEOUT_S * 1000 + SLACK_MS;
    for (const [i, answer] of answers.entries()) {
      // With a key the body is waited for, until the body timeout: 408. Without one the request is refused at once,
      // before its body is read, and the connection closed with the answer.
      const expected = i % 2 === 0 ? { status: 408, code: 'request_timeout' } : { status: 401, code: 'unauthorized' };
      expect(answer.status, answer.body).toBe(expected.status);
      expect(answer.json).toMatchObject({ error: { code: expected.code, message: expect.any(String) } });
      expect(answer.closed).toBe(true);
      expect(answer.closedAfterMs).toBeLessThan(limit);
      expect(answer.trailing).toBe('');
      if (expected.status === 408) expect(answer.elapsedMs).toBeGreaterThanOrEqual(BODY_TIMEOUT_S * 1000 - 100);
      else expect(answer.closedAfterMs).toBeLessThan(1_000);
    }
    expect(Date.now() - started).toBeLessThan(limit + 1_000);
  }, 30_000);

  it('headers sent a byte at a time are answered 408 after the headers timeout', async () => {
    const request = `GET /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n\r\n`;
    const answer = await rawHttp(api.port, request.split(''), { gapMs: 100, untilClose: true, timeoutMs: 20_000 });
    expect(answer.status).toBe(408);
    expect(answer.json).toMatchObject({ error: { code: 'request_timeout' } });
    expect(answer.closedAfterMs).toBeLessThan(HEADERS_TIMEOUT_S * 1000 + SLACK_MS);
  });

  it('an idle keep-alive connection is closed after the idle timeout', async () => {
    const socket = connect({ port: api.port, host: '127.0.0.1' });
    socket.write(`GET /v1/runs HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n\r\n`);
    let text = '';
    // The connection is idle from the answer on (the request's own time, long on a busy machine, does not count).
    let answeredAt = 0;
    socket.on('data', (chunk) => {
      answeredAt ||= Date.now();
      text += chunk.toString('utf8');
    });
    await new Promise((resolve) => socket.on('close', resolve));
    expect(text).toMatch(/^HTTP\/1\.1 200/);
    expect(text).toMatch(/keep-alive/i);
    expect(Date.now() - answeredAt).toBeGreaterThanOrEqual(IDLE_TIMEOUT_S * 1000 - 100);
    expect(Date.now() - answeredAt).toBeLessThan(IDLE_TIMEOUT_S * 1000 + SLACK_MS);
  });

  it('an event stream lives on well past the request timeout', async () => {
    const controller = new AbortController();
    const res = await fetch(`${api.url}/v1/runs/${runId}/events`, {
      headers: { authorization: `Bearer ${key}`, accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const started = Date.now();
    let text = '';
    const holdMs = REQUEST_TIMEOUT_S * 1000 + 2_000;
    while (Date.now() - started < holdMs) {
      const chunk = await reader.read();
      expect(chunk.done).toBe(false);
      text += new TextDecoder().decode(chunk.value);
    }
    // Still open and still beating after the request timeout.
    expect(text).toMatch(/^id: \d+-\d+$/m);
    expect(text.split(': ping').length - 1).toBeGreaterThanOrEqual(holdMs / 500 - 3);
    controller.abort();
  }, 30_000);

  it('a large download read slowly outlasts the request timeout and arrives whole', async () => {
    const size = 24 * 1024 * 1024;
    const content = randomBytes(size);
    await mkdir(join(api.dataDir, 'artifacts', runId), { recursive: true });
    await writeFile(join(api.dataDir, 'artifacts', runId, 'big.bin'), content);
    const socket = connect({ port: api.port, host: '127.0.0.1' });
    const started = Date.now();
    socket.write(
      `GET /v1/runs/${runId}/artifacts/big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${key}\r\n\r\n`,
    );
    const chunks: Buffer[] = [];
    let received = 0;
    const done = new Promise<void>((resolve, reject) => {
      socket.on('error', reject);
      socket.on('close', () => resolve());
      socket.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        // A slow reader: a pause after every chunk past the first megabyte, until the request timeout is well past.
        if (received > 1024 * 1024 && Date.now() - started < REQUEST_TIMEOUT_S * 1000 + 2_000) {
          socket.pause();
          setTimeout(() => socket.resume(), 300);
        }
        if (received >= size) {
          const headEnd = Buffer.concat(chunks.slice(0, 4)).indexOf('\r\n\r\n');
          if (headEnd > 0 && received - headEnd - 4 >= size) socket.end();
        }
      });
    });
    await done;
    const all = Buffer.concat(chunks);
    const headEnd = all.indexOf('\r\n\r\n');
    expect(all.subarray(0, 15).toString()).toBe('HTTP/1.1 200 OK');
    expect(Date.now() - started).toBeGreaterThan(REQUEST_TIMEOUT_S * 1000 + 1_000);
    expect(all.subarray(headEnd + 4).equals(content)).toBe(true);
  }, 60_000);

  const multipart = (boundary: string, name: string, content: string) => [
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
      'Content-Type: text/plain\r\n\r\n',
    content,
    `\r\n--${boundary}--\r\n`,
  ];

  const uploadRequest = (parts: string[]) => {
    const length = parts.reduce((n, p) => n + Buffer.byteLength(p), 0);
    return (
      'POST /v1/uploads HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${key}\r\nContent-Type: multipart/form-data; boundary=slowly\r\n` +
      `Content-Length: ${length}\r\n\r\n`
    );
  };

  it('an upload that keeps coming outlasts the body timeout and is stored whole', async () => {
    // 2 KB a quarter second for 4 s: twice the body timeout, within the request timeout.
    const content = 'x'.repeat(2048 * 16);
    const parts = multipart('slowly', 'data/slow.txt', content);
    const pieces = [parts[0]!, ...(content.match(/.{1,2048}/gs) ?? []), parts[2]!];
    const answer = await rawHttp(api.port, [uploadRequest(parts), ...pieces], { gapMs: 250, timeoutMs: 20_000 });
    expect(answer.status, answer.body).toBe(201);
    expect(answer.elapsedMs).toBeGreaterThan(BODY_TIMEOUT_S * 1000);
    expect(answer.json).toMatchObject({ files: [{ path: 'data/slow.txt', size: content.length }] });
  }, 30_000);

  it('an upload still unfinished at the request timeout gets 408 and its connection is closed', async () => {
    const content = 'y'.repeat(1024 * 1024);
    const parts = multipart('slowly', 'data/never.txt', content);
    const answer = await rawHttp(
      api.port,
      [uploadRequest(parts), parts[0]!, ...Array.from({ length: 100 }, () => 'y'.repeat(100))],
      { gapMs: 100, untilClose: true, timeoutMs: 20_000 },
    );
    expect(answer.status, answer.body).toBe(408);
    expect(answer.json).toMatchObject({ error: { code: 'request_timeout' } });
    expect(answer.closedAfterMs).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 100);
    expect(answer.closedAfterMs).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + SLACK_MS);
    expect(api.alive()).toBe(true);
  }, 30_000);
});
