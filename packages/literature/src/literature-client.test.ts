import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LiteratureUnavailableError } from '@autolab/engine';
import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiteratureSearch } from './index.js';
import { LiteratureClient } from './literature-client.js';
import { OpenAlex } from './openalex.js';
import { SemanticScholar } from './semantic-scholar.js';

const CLOSED = 'http://127.0.0.1:9';
const servers: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function fakeServer(options?: Parameters<typeof startFakeLiteratureServer>[0]): Promise<FakeLiteratureServer> {
  const server = await startFakeLiteratureServer(options);
  servers.push(server);
  return server;
}

/** Accepts connections and never answers. */
async function silentServer(): Promise<string> {
  const http = createServer(() => {});
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  });
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the search to fail');
    },
    (err: unknown) => err,
  );
}

const signal = () => AbortSignal.timeout(20_000);

describe('LiteratureClient', () => {
  it('waits out a 429 as Retry-After asks, then succeeds', async () => {
    const server = await fakeServer({ rateLimitFirst: 1 });
    const search = createLiteratureSearch({
      semanticScholarUrl: server.semanticScholarUrl,
      providers: ['semantic_scholar'],
    });
    const started = Date.now();
    const result = await search.search('adam optimizer', 3, signal());
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.source).toBe('semantic_scholar');
    expect(result.papers[0]?.title).toBe('Adam: A Method for Stochastic Optimization');
    expect(server.requests).toHaveLength(2);
  });

  it('gives up on a service after two retries and falls back to the next', async () => {
    const server = await fakeServer({ rateLimitFirst: 3 });
    const client = new LiteratureClient(
      [new SemanticScholar({ baseUrl: server.semanticScholarUrl }), new OpenAlex({ baseUrl: server.openAlexUrl })],
      { maxRetryWaitMs: 50 },
    );
    const result = await client.search('batch normalization', 3, signal());
    expect(result.source).toBe('openalex');
    expect(server.requests.map((r) => r.path)).toEqual([
      '/semantic-scholar/graph/v1/paper/search',
      '/semantic-scholar/graph/v1/paper/search',
      '/semantic-scholar/graph/v1/paper/search',
      '/openalex/works',
    ]);
  });

  it('falls back from a failing Semantic Scholar to OpenAlex', async () => {
    const broken = await fakeServer({ failWith: 500 });
    const healthy = await fakeServer();
    const search = createLiteratureSearch({
      semanticScholarUrl: broken.semanticScholarUrl,
      openAlexUrl: healthy.openAlexUrl,
    });
    const result = await search.search('feature scaling gradient descent convergence', 5, signal());
    expect(result.source).toBe('openalex');
    expect(result.papers.map((p) => p.title)).toContain('Efficient BackProp');
    expect(broken.requests).toHaveLength(1);
  });

  it('skips a service that keeps failing until its cooldown ends', async () => {
    const broken = await fakeServer({ failWith: 500 });
    const healthy = await fakeServer();
    const client = new LiteratureClient(
      [new SemanticScholar({ baseUrl: broken.semanticScholarUrl }), new OpenAlex({ baseUrl: healthy.openAlexUrl })],
      { cooldownMs: 300 },
    );
    for (let i = 0; i < 4; i++) await client.search('dropout', 3, signal());
    expect(broken.requests).toHaveLength(2);
    await new Promise((resolve) => setTimeout(resolve, 350));
    await client.search('dropout', 3, signal());
    expect(broken.requests).toHaveLength(3);
  });

  it('fails fast with LiteratureUnavailableError when no service can be reached', async () => {
    const search = createLiteratureSearch({ semanticScholarUrl: CLOSED, openAlexUrl: CLOSED });
    const started = Date.now();
    const err = await failure(search.search('dropout', 3, signal()));
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(err).toBeInstanceOf(LiteratureUnavailableError);
    expect((err as Error).message).toMatch(/semantic_scholar: cannot reach 127\.0\.0\.1:9 \(ECONNREFUSED\)/);
    expect((err as Error).message).toMatch(/openalex: cannot reach 127\.0\.0\.1:9/);

    // Both services are now cooling down: the next query does not even try.
    const again = Date.now();
    const second = await failure(search.search('adam', 3, signal()));
    expect(Date.now() - again).toBeLessThan(50);
    expect((second as Error).message).toMatch(/skipped for another \d+ s/);
  });

  it.each([
    ['a host name that does not resolve', 'http://literature.invalid'],
    // Depending on the network this is refused, answered by a proxy, or silently dropped; never slow.
    ['an unroutable address', 'http://10.255.255.1'],
  ])('bounds the cost of %s', async (_, url) => {
    const client = new LiteratureClient([new OpenAlex({ baseUrl: url })], { connectTimeoutMs: 500 });
    const started = Date.now();
    const err = await failure(client.search('dropout', 3, signal()));
    expect(err).toBeInstanceOf(LiteratureUnavailableError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a service that accepts but never answers', async () => {
    const silent = await silentServer();
    const healthy = await fakeServer();
    const client = new LiteratureClient(
      [new SemanticScholar({ baseUrl: silent }), new OpenAlex({ baseUrl: healthy.openAlexUrl })],
      { timeoutMs: 300 },
    );
    const result = await client.search('dropout', 3, signal());
    expect(result.source).toBe('openalex');
  });

  it('honours the abort signal, also while waiting to retry', async () => {
    const server = await fakeServer({ rateLimitFirst: 5 });
    const search = createLiteratureSearch({
      semanticScholarUrl: server.semanticScholarUrl,
      openAlexUrl: server.openAlexUrl,
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('stopped by user')), 200);
    const started = Date.now();
    const err = await failure(search.search('dropout', 3, controller.signal));
    expect(err).toEqual(new Error('stopped by user'));
    expect(err).not.toBeInstanceOf(LiteratureUnavailableError);
    expect(Date.now() - started).toBeLessThan(700);

    const aborted = AbortSignal.abort(new Error('already'));
    await expect(search.search('dropout', 3, aborted)).rejects.toThrow('already');
  });

  it('deduplicates what a service returns', async () => {
    const server = await fakeServer();
    const search = createLiteratureSearch({ openAlexUrl: server.openAlexUrl, providers: ['openalex'] });
    const result = await search.search('batch normalization internal covariate shift', 10, signal());
    const titles = result.papers.map((p) => p.title);
    const batchNorm = 'Batch Normalization: Accelerating Deep Network Training by Reducing Internal Covariate Shift';
    expect(titles.filter((t) => t === batchNorm)).toHaveLength(1);
    expect(new Set(titles).size).toBe(titles.length);
  });

  it('says so when nothing is configured', async () => {
    const err = await failure(new LiteratureClient([]).search('dropout', 3, signal()));
    expect(err).toBeInstanceOf(LiteratureUnavailableError);
  });
});
