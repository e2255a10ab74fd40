import { bibNames, plainToBib } from './bib-text.js';
import type { LiteraturePaper } from './ports.js';

/**
 * BibTeX for the papers the literature search returned (and only those): one entry per paper, in the same order,
 * with stable citation keys (`lastname2023firstword`) unique among themselves and the keys already `taken` (the
 * user's own references), and every field made safe for LaTeX.
 */
export function toBibtex(papers: LiteraturePaper[], taken: Iterable<string> = []): { key: string; entry: string }[] {
  const used = new Set([...taken].map((k) => k.toLowerCase()));
  return papers.map((paper) => {
    const key = uniqueKey(citationKey(paper), used);
    const fields: [string, string | null][] = [
      ['title', `{${plainToBib(paper.title)}}`],
      ['author', paper.authors.length > 0 ? bibNames(paper.authors.map(plainToBib).join(' and ')) || null : null],
      ['year', paper.year !== null ? String(paper.year) : null],
      [
        paper.venue && /conference|proceedings|workshop|symposium/i.test(paper.venue) ? 'booktitle' : 'journal',
        paper.venue ? plainToBib(paper.venue) : null,
      ],
      ['doi', paper.doi ? plainToBib(paper.doi.replace(/^https?:\/\/(dx\.)?doi\.org\//i, '')) : null],
      ['url', paper.url ? `\\url{${paper.url.replace(/[{}\\%#]/g, '')}}` : null],
    ];
    const type = fields[3]![0] === 'booktitle' ? 'inproceedings' : 'article';
    const body = fields
      .filter((f): f is [string, string] => f[1] !== null)
      .map(([name, value]) => `  ${name} = {${value}}`)
      .join(',\n');
    return { key, entry: `@${type}{${key},\n${body}\n}` };
  });
}

/**
 * `base`, or `base` with the first free suffix (a, b, …): BibTeX refuses keys that differ only in case, so `used`
 * holds lowercased keys; the key returned is added to it.
 */
export function uniqueKey(base: string, used: Set<string>): string {
  let key = base;
  for (let n = 1; used.has(key.toLowerCase()); n++)
    key = `${base}${String.fromCharCode(97 + ((n - 1) % 26))}${n > 26 ? Math.ceil(n / 26) : ''}`;
  used.add(key.toLowerCase());
  return key;
}

/** `vaswani2017attention`: ASCII letters and digits only, so the key is safe in \cite and in file names. */
export function citationKey(paper: Pick<LiteraturePaper, 'title' | 'authors' | 'year'>): string {
  const ascii = (s: string) =>
    s
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '');
  const lastName = ascii(paper.authors[0]?.trim().split(/\s+/).at(-1) ?? '') || 'anon';
  const stop = new Set(['a', 'an', 'the', 'on', 'of', 'in', 'for', 'and', 'to', 'with']);
  const word =
    paper.title
      .split(/\s+/)
      .map(ascii)
      .find((w) => w.length > 0 && !stop.has(w)) ?? 'paper';
  return `${lastName}${paper.year ?? ''}${word}`;
}
