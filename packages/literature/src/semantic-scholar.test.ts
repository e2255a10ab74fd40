import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LiteratureClient } from './literature-client.js';
import { SemanticScholar } from './semantic-scholar.js';

let server: FakeLiteratureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('SemanticScholar', () => {
  it('maps Graph API papers, DOI included, over real HTTP', async () => {
    server = await startFakeLiteratureServer();
    const client = new LiteratureClient([new SemanticScholar({ baseUrl: server.semanticScholarUrl })]);
    const result = await client.search('optimization methods large-scale', 5, AbortSignal.timeout(5_000));
    expect(result.source).toBe('semantic_scholar');
    const paper = result.papers.find((p) => p.title === 'Optimization Methods for Large-Scale Machine Learning');
    expect(paper).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{40}$/),
      title: 'Optimization Methods for Large-Scale Machine Learning',
      authors: ['Léon Bottou', 'Frank E. Curtis', 'Jorge Nocedal'],
      year: 2018,
      venue: 'SIAM Review',
      abstract: expect.stringContaining('stochastic gradient'),
      url: `https://www.semanticscholar.org/paper/${paper?.id}`,
      doi: '10.1137/16m1080173',
      citationCount: expect.any(Number),
    });
    expect(server.requests[0]).toMatchObject({
      path: '/semantic-scholar/graph/v1/paper/search',
      params: {
        query: 'optimization methods large scale',
        limit: '5',
        fields: 'paperId,title,authors,year,venue,abstract,externalIds,url,citationCount',
      },
      apiKey: null,
    });
  });

  it('sends the API key as x-api-key and keeps it out of the provider object', async () => {
    server = await startFakeLiteratureServer();
    const provider = new SemanticScholar({ baseUrl: server.semanticScholarUrl, apiKey: 'sk-secret' });
    await new LiteratureClient([provider]).search('dropout', 3, AbortSignal.timeout(5_000));
    expect(server.requests[0]?.apiKey).toBe('sk-secret');
    expect(JSON.stringify(provider)).not.toContain('sk-secret');
  });

  it('reads papers without optional fields and skips ones without a title', () => {
    const papers = new SemanticScholar().parse({
      total: 2,
      offset: 0,
      data: [
        { paperId: 'abc', title: 'A Paper', authors: [], year: null, venue: '', externalIds: null },
        { paperId: 'def', title: null },
      ],
    });
    expect(papers).toEqual([
      {
        id: 'abc',
        title: 'A Paper',
        authors: [],
        year: null,
        venue: null,
        abstract: null,
        url: null,
        doi: null,
        citationCount: null,
      },
    ]);
    expect(new SemanticScholar().parse({ total: 0, offset: 0 })).toEqual([]);
    expect(() => new SemanticScholar().parse({ message: 'oops' })).toThrow(/data/);
  });
});
