import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient, ApiError, ProtocolError, UnreachableError } from '@autolab/api-client';
import { readSse } from '@autolab/api-client/sse';
import type { NewEvent } from '@autolab/contracts';
import { RedisKeys, RunStore } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { olderNodeFinished } from '../apps/cli/src/testing/samples.js';
import { type Stack, startStack } from './stack.js';

/**
 * The one API client (packages/api-client) that the CLI and the dashboard share, against the real API over real HTTP:
 * typed, zod-checked answers; the documented error shape as `ApiError`; uploads from a browser's `FormData` and from a
 * streamed multipart body; the event stream read with the shared SSE reader. No worker: runs stay queued.
 */
describe('the shared API client against the real API', () => {
  let stack: Stack;
  let client: ApiClient;
  let runId = '';

  beforeAll(async () => {
    stack = await startStack({ worker: false });
    client = new ApiClient({ baseUrl: stack.apiUrl, apiKey: stack.apiKey });
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('creates, reads and lists runs, idempotently', async () => {
    expect((await client.listRuns()).runs).toEqual([]);
    const goal = 'Does feature standardization speed up logistic regression?';
    const created = await client.createRun({ goal, maxIterations: 3 }, { idempotencyKey: 'client-test-1' });
    runId = created.id;
    expect(created).toMatchObject({ status: 'queued', goal, maxIterations: 3 });
    const again = await client.createRun({ goal, maxIterations: 3 }, { idempotencyKey: 'client-test-1' });
    expect(again.id).toBe(runId);
    expect((await client.getRun(runId)).id).toBe(runId);
    expect((await client.listRuns({ limit: 10 })).runs.map((r) => r.id)).toEqual([runId]);
    expect((await client.listTemplates()).templates.length).toBeGreaterThan(0);
  });

  it('reads the event log as pages, as sent, to its end, and as a live stream', async () => {
    const page = await client.eventPage(runId);
    expect(page.events[0]?.type).toBe('run.queued');
    const asSent = await client.eventPageAsSent(runId);
    expect(asSent.events.map((e) => e.id)).toEqual(page.events.map((e) => e.id));
    const all = await client.allEvents(runId);
    expect(await client.lastEventId(runId)).toBe(all.at(-1)!.id);

    const controller = new AbortController();
    const body = await client.openEventStream(runId, { signal: controller.signal });
    for await (const message of readSse(body)) {
      expect(message.event).toBe('run.queued');
      expect(JSON.parse(message.data)).toMatchObject({ id: all[0]!.id, type: 'run.queued' });
      break;
    }
    controller.abort();
  });

  it('reads an event written before a field with a default existed, the default filled in (not a 500)', async () => {
    const store = new RunStore(stack.redis, new RedisKeys(stack.prefix));
    const { type, message, data } = olderNodeFinished(runId);
    const id = await store.appendEvent(runId, { type, message, data } as NewEvent);
    const page = await client.eventPage(runId);
    expect(page.events.find((e) => e.id === id)?.data).toMatchObject({ analysis: null, skippedOutputs: null });
  });

  it('sends hints and lists them', async () => {
    const hint = await client.createHint(runId, 'Try a smaller learning rate first.');
    expect(hint.text).toBe('Try a smaller learning rate first.');
    expect((await client.listHints(runId)).hints.map((h) => h.id)).toEqual([hint.id]);
  });

  it("uploads a browser's FormData and a streamed multipart body", async () => {
    const form = new FormData();
    form.append('file', new Blob(['x,y\n1,2\n']), 'data/train.csv');
    const fromForm = await client.createUpload({ body: form });
    expect(fromForm.id).toMatch(/^upl_/);
    expect(fromForm.files.map((f) => f.path)).toEqual(['data/train.csv']);

    const boundary = 'client-test-boundary';
    const text =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\nhello\r\n--${boundary}--\r\n`;
    const bytes = new TextEncoder().encode(text);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 40));
        controller.enqueue(bytes.slice(40));
        controller.close();
      },
    });
    const streamed = await client.createUpload({
      body: stream,
      contentType: `multipart/form-data; boundary=${boundary}`,
      contentLength: bytes.length,
    });
    expect(streamed.files.map((f) => f.path)).toEqual(['notes.txt']);
  });

  it('turns the documented error shape into ApiError: code, message, details, status', async () => {
    const missing = await client.getRun('run_00000000000000000000000000').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ApiError);
    expect(missing).toMatchObject({ status: 404, code: 'run_not_found' });

    const invalid = await client.createRun({ goal: 'short', maxIterations: 3 }).catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(ApiError);
    expect(invalid).toMatchObject({ status: 400, code: 'validation_failed' });
    const issues = ((invalid as ApiError).details as { issues: { path: string }[] }).issues;
    expect(issues.map((i) => i.path)).toContain('goal');

    const noArtifact = await client.readArtifactText(runId, 'paper/paper.pdf').catch((e: unknown) => e);
    expect(noArtifact).toMatchObject({ status: 404 });

    const stranger = new ApiClient({ baseUrl: stack.apiUrl, apiKey: 'not-a-key' });
    expect(await stranger.listRuns().catch((e: unknown) => e)).toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('cancels a queued run', async () => {
    const cancelled = await client.cancelRun(runId);
    expect(['cancelled', 'queued', 'running']).toContain(cancelled.status);
    await expect.poll(async () => (await client.getRun(runId)).status, { timeout: 10_000 }).toBe('cancelled');
  });
});

describe('the shared API client when the server is not the API', () => {
  let server: Server;
  let url = '';

  beforeAll(async () => {
    // An ordinary web server that answers every path with an HTML page, as a wrong URL or a proxy would.
    server = createServer((_request, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>not the API</body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('reports an answer in the wrong shape as ProtocolError and no answer as UnreachableError', async () => {
    const wrong = new ApiClient({ baseUrl: url });
    expect(await wrong.getRun('run_x').catch((e: unknown) => e)).toBeInstanceOf(ProtocolError);
    expect(await wrong.openEventStream('run_x').catch((e: unknown) => e)).toBeInstanceOf(ProtocolError);
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const nobody = new ApiClient({ baseUrl: `http://127.0.0.1:${closedPort}` });
    const unreachable = await nobody.listRuns().catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(UnreachableError);
    expect((unreachable as Error).message).toMatch(/ECONNREFUSED/);
  });
});
