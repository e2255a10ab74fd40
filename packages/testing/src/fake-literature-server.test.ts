import { afterEach, describe, expect, it } from 'vitest';
import { type FakeLiteratureServer, startFakeLiteratureServer } from './fake-literature-server.js';

let server: FakeLiteratureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface SearchPage {
  total: number;
  offset: number;
  next?: number;
  data: { title: string }[];
}

interface WorksPage {
  meta: { count: number };
  results: {
    title: string;
    authorships: { author: { display_name: string } }[];
    abstract_inverted_index: Record<string, number[]>;
  }[];
}

async function getJson<T = unknown>(url: string): Promise<{ status: number; headers: Headers; body: T }> {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: (await response.json()) as T };
}

describe('startFakeLiteratureServer', () => {
  it('answers Semantic Scholar searches in the Graph API shape, with only the requested fields', async () => {
    server = await startFakeLiteratureServer();
    const { status, body } = await getJson<SearchPage>(
      `${server.semanticScholarUrl}/graph/v1/paper/search?query=adam%20stochastic%20optimization&limit=2&fields=title,year,externalIds,authors`,
    );
    expect(status).toBe(200);
    expect(body.offset).toBe(0);
    expect(body.total).toBeGreaterThan(2);
    expect(body.next).toBe(2);
    expect(body.data).toHaveLength(2);
    expect(body.data[0]).toEqual({
      paperId: expect.stringMatching(/^[0-9a-f]{40}$/),
      title: 'Adam: A Method for Stochastic Optimization',
      year: 2015,
      externalIds: { ArXiv: '1412.6980', CorpusId: expect.any(Number) },
      authors: [
        { authorId: expect.any(String), name: 'Diederik P. Kingma' },
        { authorId: expect.any(String), name: 'Jimmy Ba' },
      ],
    });
    expect(server.requests).toEqual([
      {
        path: '/semantic-scholar/graph/v1/paper/search',
        query: 'adam stochastic optimization',
        params: expect.objectContaining({ limit: '2' }),
        apiKey: null,
      },
    ]);
  });

  it('answers OpenAlex searches with meta, results and an inverted-index abstract', async () => {
    server = await startFakeLiteratureServer();
    const { status, body } = await getJson<WorksPage>(
      `${server.openAlexUrl}/works?search=label%20smoothing&per-page=5`,
    );
    expect(status).toBe(200);
    expect(body.meta).toMatchObject({ count: body.results.length, page: 1, per_page: 5 });
    const work = body.results[0];
    if (!work) throw new Error('no results');
    expect(work).toMatchObject({
      id: expect.stringMatching(/^https:\/\/openalex\.org\/W\d+$/),
      doi: 'https://doi.org/10.1109/cvpr.2016.308',
      display_name: 'Rethinking the Inception Architecture for Computer Vision',
      publication_year: 2016,
      primary_location: { source: { display_name: 'IEEE Conference on Computer Vision and Pattern Recognition' } },
    });
    expect(work.authorships.map((a) => a.author.display_name)).toContain('Zbigniew Wojna');
    expect(work.abstract_inverted_index.smoothing).toEqual([expect.any(Number)]);
  });

  it.each([
    ['feature scaling gradient descent convergence', 'Efficient BackProp'],
    ['input normalization conditioning', 'Efficient BackProp'],
    ['temperature scaling calibration', 'On Calibration of Modern Neural Networks'],
  ])('finds papers for "%s"', async (query, title) => {
    server = await startFakeLiteratureServer();
    const s2 = await getJson<SearchPage>(
      `${server.semanticScholarUrl}/graph/v1/paper/search?query=${encodeURIComponent(query)}&fields=title`,
    );
    const openalex = await getJson<WorksPage>(`${server.openAlexUrl}/works?search=${encodeURIComponent(query)}`);
    expect(s2.body.data.map((p) => p.title)).toContain(title);
    expect(openalex.body.results.map((w) => w.title)).toContain(title);
  });

  it('answers an unknown topic with an empty page', async () => {
    server = await startFakeLiteratureServer();
    const { body } = await getJson(`${server.semanticScholarUrl}/graph/v1/paper/search?query=zebrafish`);
    expect(body).toEqual({ total: 0, offset: 0, data: [] });
  });

  it('rate-limits the first requests, then answers', async () => {
    server = await startFakeLiteratureServer({ rateLimitFirst: 2 });
    const url = `${server.openAlexUrl}/works?search=dropout`;
    const first = await getJson(url);
    const second = await getJson(url);
    const third = await getJson(url);
    expect([first.status, second.status, third.status]).toEqual([429, 429, 200]);
    expect(first.headers.get('retry-after')).toBe('1');
  });

  it('fails every request with failWith', async () => {
    server = await startFakeLiteratureServer({ failWith: 503 });
    const { status } = await getJson(`${server.semanticScholarUrl}/graph/v1/paper/search?query=dropout`);
    expect(status).toBe(503);
  });
});
