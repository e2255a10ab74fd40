import type { LiteraturePaper } from './ports.js';

/**
 * BibTeX for the papers the literature search returned (and only those): one entry per paper, in the same order,
 * with stable, unique citation keys (`lastname2023firstword`) and every field escaped for LaTeX.
 */
export function toBibtex(papers: LiteraturePaper[]): { key: string; entry: string }[] {
  const used = new Map<string, number>();
  return papers.map((paper) => {
    const base = citationKey(paper);
    const count = used.get(base) ?? 0;
    used.set(base, count + 1);
    const key = count === 0 ? base : `${base}${String.fromCharCode(97 + ((count - 1) % 26))}${count > 26 ? count : ''}`;
    const fields: [string, string | null][] = [
      ['title', `{${escapeBib(paper.title)}}`],
      ['author', paper.authors.length > 0 ? paper.authors.map(escapeBib).join(' and ') : null],
      ['year', paper.year !== null ? String(paper.year) : null],
      [
        paper.venue && /conference|proceedings|workshop|symposium/i.test(paper.venue) ? 'booktitle' : 'journal',
        paper.venue ? escapeBib(paper.venue) : null,
      ],
      ['doi', paper.doi ? escapeBib(paper.doi.replace(/^https?:\/\/(dx\.)?doi\.org\//i, '')) : null],
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

/** `vaswani2017attention`: ASCII letters and digits only, so the key is safe in \cite and in file names. */
export function citationKey(paper: LiteraturePaper): string {
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

const BIB_SPECIALS: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  $: '\\$',
  '&': '\\&',
  '#': '\\#',
  '%': '\\%',
  _: '\\_',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
};

function escapeBib(text: string): string {
  return text
    .replace(/[\\{}$&#%_^~]/g, (c) => BIB_SPECIALS[c]!)
    .replace(/\s+/g, ' ')
    .trim();
}
