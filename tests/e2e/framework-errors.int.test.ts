import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../api-process.js';
import { rawHttp } from '../raw-http.js';

/**
 * Item 6 of issue 7: every answer has the documented `{"error": {"code", "message"}}` shape, whatever produced it —
 * the router (a URL it cannot decode, a parameter longer than it accepts) or Node's HTTP parser (control bytes in a
 * header, a bad Content-Length, headers too large), which answer before any route or hook runs. The requests go out on
 * raw sockets, byte for byte, to the API running as its own process.
 */
let api: ApiProcess;
let key: string;

beforeAll(async () => {
  api = await startApiProcess();
  key = await api.createKey('framework-errors');
}, 90_000);

afterAll(async () => {
  await api?.stop();
});

const head = (requestLine: string, headers: string[] = []) =>
  `${requestLine}\r\n${['Host: 127.0.0.1', ...headers].join('\r\n')}\r\n\r\n`;

describe('errors raised below the routes', () => {
  const cases: [string, () => string, number, string][] = [
    ['an overlong UTF-8 encoding in the path', () => head('GET /v1/runs/%C0%AE HTTP/1.1'), 400, 'invalid_url'],
    [
      'the same with a key',
      () => head('GET /v1/runs/%C0%AE HTTP/1.1', [`Authorization: Bearer ${key}`]),
      400,
      'invalid_url',
    ],
    ['a broken percent-escape', () => head('GET /v1/runs/%E0%A4%A/events HTTP/1.1'), 400, 'invalid_url'],
    [
      'a 101-character run id on a POST',
      () => head(`POST /v1/runs/${'r'.repeat(101)}/cancel HTTP/1.1`, ['Content-Length: 0']),
      414,
      'uri_too_long',
    ],
    [
      'a 101-character run id on a GET, with a key',
      () => head(`GET /v1/runs/${'r'.repeat(101)} HTTP/1.1`, [`Authorization: Bearer ${key}`]),
      414,
      'uri_too_long',
    ],
    [
      'a URL longer than the header limit',
      () => head(`GET /v1/runs/${'a'.repeat(20_000)} HTTP/1.1`),
      414,
      'uri_too_long',
    ],
    ['a control byte in a header value', () => head('GET /healthz HTTP/1.1', ['X-Note: a\x01b']), 400, 'bad_request'],
    ['a control byte in a header name', () => head('GET /healthz HTTP/1.1', ['X-No\x07te: ab']), 400, 'bad_request'],
    [
      'a Content-Length that is not a number',
      () => head('POST /v1/runs HTTP/1.1', ['Content-Type: application/json', 'Content-Length: abc']),
      400,
      'bad_request',
    ],
    [
      'two different Content-Lengths',
      () => head('POST /v1/runs HTTP/1.1', ['Content-Length: 5', 'Content-Length: 6']),
      400,
      'bad_request',
    ],
    [
      'Content-Length with Transfer-Encoding: chunked',
      () => head('POST /v1/runs HTTP/1.1', ['Transfer-Encoding: chunked', 'Content-Length: 5']),
      400,
      'bad_request',
    ],
    ['a request line that is not HTTP', () => 'GARBAGE\r\n\r\n', 400, 'bad_request'],
    ['an unknown HTTP version', () => head('GET /healthz HTTP/7.1'), 400, 'bad_request'],
    [
      'headers larger than the limit',
      () =>
        head(
          'GET /healthz HTTP/1.1',
          Array.from({ length: 40 }, (_, i) => `X-Big-${i}: ${'b'.repeat(500)}`),
        ),
      431,
      'headers_too_large',
    ],
    [
      'a broken chunked body',
      () =>
        `${head('POST /v1/runs HTTP/1.1', [`Authorization: Bearer ${key}`, 'Content-Type: application/json', 'Transfer-Encoding: chunked'])}zz\r\n{}\r\n0\r\n\r\n`,
      400,
      'bad_request',
    ],
  ];

  it.each(cases.map(([name, request, status, code]) => [name, status, code, request] as const))(
    '%s → %i %s in the error shape',
    async (_name, status, code, request) => {
      const answer = await rawHttp(api.port, [request()]);
      expect(answer.status, answer.body).toBe(status);
      expect(answer.headers['content-type']).toMatch(/^application\/json/);
      expect(answer.json).toMatchObject({ error: { code, message: expect.any(String) } });
      expect(Object.keys(answer.json as object)).toEqual(['error']);
      expect(['code', 'message', 'details']).toEqual(
        expect.arrayContaining(Object.keys((answer.json as { error: object }).error)),
      );
      expect((answer.json as { error: { message: string } }).error.message.length).toBeGreaterThan(10);
    },
  );

  it('answers a malformed HEAD request without a body (its client would read the body as the next answer)', async () => {
    const bytes = await new Promise<string>((resolve, reject) => {
      const socket = connect(api.port, '127.0.0.1', () => socket.write(head('HEAD %2Fmetrics HTTP/1.1')));
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('close', () => resolve(received));
      socket.on('error', reject);
    });
    expect(bytes).toMatch(/^HTTP\/1\.1 400 /);
    // The headers, and nothing after them.
    expect(bytes.indexOf('\r\n\r\n')).toBe(bytes.length - 4);
  });

  it('echoes nothing of the request back (no reflected bytes, no key)', async () => {
    const answer = await rawHttp(api.port, [
      head('GET /v1/runs/%C0%AE<script> HTTP/1.1', [`Authorization: Bearer ${key}`]),
    ]);
    expect(answer.status).toBe(400);
    expect(answer.body).not.toContain('<script>');
    expect(answer.body).not.toContain(key);
  });

  it('keeps serving: the API process is up and answers a normal request after all of these', async () => {
    expect(api.alive()).toBe(true);
    const answer = await rawHttp(api.port, [head('GET /v1/runs HTTP/1.1', [`Authorization: Bearer ${key}`])]);
    expect(answer.status).toBe(200);
  });
});
