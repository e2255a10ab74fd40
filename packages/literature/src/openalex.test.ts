import { type FakeLiteratureServer, startFakeLiteratureServer } from '@autolab/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { LiteratureClient } from './literature-client.js';
import { abstractFromInvertedIndex, OpenAlex } from './openalex.js';

let server: FakeLiteratureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('OpenAlex', () => {
  it('maps works, rebuilding the abstract, over real HTTP', async () => {
    server = await startFakeLiteratureServer();
    const client = new LiteratureClient([new OpenAlex({ baseUrl: server.openAlexUrl, mailto: 'lab@example.org' })]);
    const result = await client.search('input normalization conditioning', 5, AbortSignal.timeout(5_000));
    expect(result.source).toBe('openalex');
    expect(result.papers.find((p) => p.title === 'Efficient BackProp')).toEqual({
      id: expect.stringMatching(/^W\d+$/),
      title: 'Efficient BackProp',
      authors: ['Yann LeCun', 'Léon Bottou', 'Genevieve B. Orr', 'Klaus-Robert Müller'],
      year: 1998,
      venue: 'Neural Networks: Tricks of the Trade',
      abstract: expect.stringMatching(/^Practical tricks for training networks with backpropagation: .* converges\.$/),
      url: 'https://doi.org/10.1007/3-540-49430-8_2',
      doi: '10.1007/3-540-49430-8_2',
      citationCount: expect.any(Number),
    });
    expect(server.requests[0]).toMatchObject({
      path: '/openalex/works',
      query: 'input normalization conditioning',
      params: { 'per-page': '5', mailto: 'lab@example.org' },
    });
  });

  it('falls back to display_name and to the work URL', () => {
    const [paper] = new OpenAlex().parse({
      meta: { count: 1 },
      results: [{ id: 'https://openalex.org/W1', title: null, display_name: 'Shown', primary_location: null }],
    });
    expect(paper).toMatchObject({ id: 'W1', title: 'Shown', url: 'https://openalex.org/W1', venue: null, doi: null });
  });
});

describe('abstractFromInvertedIndex', () => {
  it('puts repeated words back in their positions', () => {
    expect(abstractFromInvertedIndex({ the: [0, 3], cat: [1], saw: [2], dog: [4] })).toBe('the cat saw the dog');
  });

  it('reads a missing or empty index as no abstract', () => {
    expect(abstractFromInvertedIndex(null)).toBeNull();
    expect(abstractFromInvertedIndex({})).toBeNull();
  });

  it('ignores positions that are not small non-negative integers', () => {
    expect(abstractFromInvertedIndex({ a: [0], b: [-1, 1.5, 'x', 1e9], c: [1] })).toBe('a c');
  });
});
