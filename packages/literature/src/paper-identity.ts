import type { LiteraturePaper } from '@autolab/engine';

/** `https://doi.org/10.1109/X`, `doi:10.1109/x` and `10.1109/X` are one DOI: returns the bare, lower-case form. */
export function normalizeDoi(doi: string | null | undefined): string | null {
  if (!doi) return null;
  const bare = doi
    .trim()
    .replace(/^https?:\/\/(dx\.)?doi\.org\//i, '')
    .replace(/^doi:\s*/i, '')
    .toLowerCase();
  return bare.startsWith('10.') ? bare : null;
}

/** Case, accents, punctuation and spacing aside, two titles are the same title. */
export function normalizeTitle(title: string): string {
  return title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/**
 * Services list a preprint and its published version, or one work twice, as separate records. Keeps the first
 * (best-ranked) record of each paper, matched by DOI and then by normalized title, and fills its gaps from the others.
 */
export function dedupePapers(papers: LiteraturePaper[]): LiteraturePaper[] {
  const kept: LiteraturePaper[] = [];
  const byDoi = new Map<string, LiteraturePaper>();
  const byTitle = new Map<string, LiteraturePaper>();
  for (const paper of papers) {
    const doi = normalizeDoi(paper.doi);
    const title = normalizeTitle(paper.title);
    const same = (doi ? byDoi.get(doi) : undefined) ?? (title ? byTitle.get(title) : undefined);
    if (same) {
      fillGaps(same, paper);
      const sameDoi = normalizeDoi(same.doi);
      if (sameDoi && !byDoi.has(sameDoi)) byDoi.set(sameDoi, same);
      continue;
    }
    const copy = { ...paper, authors: [...paper.authors] };
    kept.push(copy);
    if (doi) byDoi.set(doi, copy);
    if (title) byTitle.set(title, copy);
  }
  return kept;
}

function fillGaps(target: LiteraturePaper, other: LiteraturePaper): void {
  if (target.authors.length === 0) target.authors = [...other.authors];
  target.year ??= other.year;
  target.venue ??= other.venue;
  target.abstract ??= other.abstract;
  target.url ??= other.url;
  target.doi ??= other.doi;
  target.citationCount ??= other.citationCount;
}
