import type { LiteraturePaper } from '@autolab/engine';
import { describe, expect, it } from 'vitest';
import { dedupePapers, normalizeDoi, normalizeTitle } from './paper-identity.js';

function paper(fields: Partial<LiteraturePaper> & { id: string; title: string }): LiteraturePaper {
  return {
    authors: [],
    year: null,
    venue: null,
    abstract: null,
    url: null,
    doi: null,
    citationCount: null,
    ...fields,
  };
}

describe('normalizeDoi', () => {
  it('reads resolver URLs, doi: prefixes and case as one DOI', () => {
    expect(normalizeDoi('https://doi.org/10.1109/CVPR.2016.90')).toBe('10.1109/cvpr.2016.90');
    expect(normalizeDoi('http://dx.doi.org/10.1109/CVPR.2016.90')).toBe('10.1109/cvpr.2016.90');
    expect(normalizeDoi('doi:10.1109/cvpr.2016.90')).toBe('10.1109/cvpr.2016.90');
    expect(normalizeDoi('not a doi')).toBeNull();
    expect(normalizeDoi(null)).toBeNull();
  });
});

describe('normalizeTitle', () => {
  it('ignores case, accents, punctuation and spacing', () => {
    expect(normalizeTitle('  Efficient  BackProp. ')).toBe(normalizeTitle('efficient backprop'));
    expect(normalizeTitle('Régularisation—Dropout')).toBe('regularisation dropout');
  });
});

describe('dedupePapers', () => {
  it('merges by DOI first, then by normalized title, keeping the first and filling its gaps', () => {
    const papers = dedupePapers([
      paper({ id: 'a', title: 'Deep Residual Learning for Image Recognition', doi: '10.1109/CVPR.2016.90' }),
      paper({
        id: 'b',
        title: 'Deep residual learning (CVPR version)',
        doi: 'https://doi.org/10.1109/cvpr.2016.90',
        year: 2016,
      }),
      paper({ id: 'c', title: 'Layer Normalization', venue: 'arXiv.org' }),
      paper({
        id: 'd',
        title: 'layer normalization.',
        abstract: 'Normalizes per case.',
        doi: '10.48550/arxiv.1607.06450',
      }),
      paper({ id: 'e', title: 'Dropout' }),
    ]);
    expect(papers.map((p) => p.id)).toEqual(['a', 'c', 'e']);
    expect(papers[0]?.year).toBe(2016);
    expect(papers[1]).toMatchObject({
      venue: 'arXiv.org',
      abstract: 'Normalizes per case.',
      doi: '10.48550/arxiv.1607.06450',
    });
  });

  it('leaves its input untouched', () => {
    const input = [paper({ id: 'a', title: 'T' }), paper({ id: 'b', title: 't', year: 2000 })];
    dedupePapers(input);
    expect(input[0]?.year).toBeNull();
  });
});
