import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Embedder } from './embeddings.js';

const KEY = 'sk-embedder-key-0123456789abcdef';
/** An endpoint that fails and quotes the Authorization header it was sent, as a misconfigured proxy does. */
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `failed for ${req.headers.authorization}` } }));
  });
});
let baseUrl: string;

beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => {
  server.close();
});

describe('Embedder', () => {
  it("fails with the endpoint's status and message, without its key", async () => {
    const embedder = new Embedder({ model: 'm', baseUrl, apiKey: KEY, timeoutMs: 5000, maxAttempts: 1 });
    const err = (await embedder.embed(['a']).catch((e: unknown) => e)) as Error & { status?: number };
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toContain('failed for Bearer [redacted]');
    expect(err.status).toBe(500);
    expect(JSON.stringify(err)).not.toContain(KEY);
    expect(String(err.stack)).not.toContain(KEY);
  });
});
