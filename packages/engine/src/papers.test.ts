import { describe, expect, it } from 'vitest';
import { toBibtex, uniqueKey } from './bibtex.js';
import { type ExtractedPapers, MAX_PAPERS_CHARS, MAX_USER_REFERENCES, papersBlock, userReferences } from './papers.js';

const extracted = (over: Partial<ExtractedPapers>): ExtractedPapers => ({
  pdfs: [],
  bibs: [],
  others: [],
  omitted: { pdfs: 0, entries: 0 },
  ...over,
});
const pdf = (file: string, title: string, excerpt = 'What the paper says.') => ({
  file,
  title,
  author: '',
  pages: 1,
  excerpt,
  excerptFrom: 'abstract' as const,
});

describe('userReferences', () => {
  it('keeps .bib entries under safe unique keys and adds a @misc entry for a PDF no entry describes', () => {
    const { references, unreadable } = userReferences(
      extracted({
        pdfs: [
          pdf('papers/sparse.pdf', 'Sparse widgets for grokking', 'Widgets, sparsely.'),
          pdf('grok.pdf', 'Grokking Modular Arithmetic'),
          { file: 'scan.pdf', error: 'no text could be extracted' },
        ],
        bibs: [
          {
            file: 'refs.bib',
            entries: [
              {
                type: 'Article',
                key: 'smith2020sparse',
                fields: { title: 'Sparse {Widgets} for Grokking', author: 'Smith, Jane and others', year: '2020' },
              },
              {
                type: 'online',
                key: 'Smith2020Sparse',
                fields: { title: 'A second one', abstract: 'Its {abstract}.' },
              },
              { type: 'misc', key: 'evil%key\\input', fields: { title: '\\input{/etc/passwd} ok', file: 'x.pdf' } },
              { type: 'misc', key: 'notitle', fields: { author: 'Nobody' } },
            ],
            problems: ['@inproceedings at character 9: unbalanced braces'],
          },
        ],
        others: ['README.md'],
      }),
      ['anongrokking'],
    );
    expect(references.map((r) => [r.key, r.from, r.file])).toEqual([
      // The PDF with the same title is the entry's: its abstract becomes the summary, no second entry.
      ['smith2020sparse', 'bib', 'papers/sparse.pdf'],
      ['Smith2020Sparsea', 'bib', 'refs.bib'],
      ['evilkeyinput', 'bib', 'refs.bib'],
      ['anongrokkinga', 'pdf', 'grok.pdf'],
    ]);
    expect(references[0]).toMatchObject({ authors: ['Smith, Jane'], year: 2020, summary: 'Widgets, sparsely.' });
    expect(references[0]!.entry).toBe(
      '@article{smith2020sparse,\n  title = {Sparse {Widgets} for Grokking},\n  author = {Smith, Jane and others},\n  year = {2020}\n}',
    );
    expect(references[1]!.entry).toMatch(/^@misc\{Smith2020Sparsea,/);
    expect(references[1]!.summary).toBe('Its abstract.');
    expect(references[2]!.entry).not.toContain('\\input');
    expect(references[2]!.entry).not.toContain('file =');
    expect(references[3]!.entry).toBe(
      '@misc{anongrokkinga,\n  title = {{Grokking Modular Arithmetic}},\n  note = {Provided by the user as \\texttt{grok.pdf}}\n}',
    );
    expect(unreadable).toEqual([
      { file: 'scan.pdf', reason: 'no text could be extracted' },
      { file: 'refs.bib', reason: '@inproceedings at character 9: unbalanced braces' },
      { file: 'refs.bib', reason: 'entry notitle has no title; left out' },
      { file: 'README.md', reason: 'not a PDF or .bib file; left out' },
    ]);
  });

  it(`keeps at most ${MAX_USER_REFERENCES} references, the PDFs before a large .bib's other entries, and counts the rest`, () => {
    const entries = Array.from({ length: MAX_USER_REFERENCES + 5 }, (_, i) => ({
      type: 'misc',
      key: `k${i}`,
      fields: { title: `Title ${i}` },
    }));
    const result = userReferences(
      extracted({
        bibs: [{ file: 'a.bib', entries, problems: [] }],
        pdfs: [pdf('x.pdf', 'Another paper'), pdf('t54.pdf', 'Title 54')],
      }),
    );
    expect(result.references).toHaveLength(MAX_USER_REFERENCES);
    expect(result.omitted).toBe(6);
    // k54 has its PDF (same title) and x.pdf is a paper of its own: both kept, in the files' order.
    expect(result.references.map((r) => r.key).slice(-3)).toEqual(['k47', 'k54', 'anonanother']);
  });
});

describe('papersBlock', () => {
  it('lists key, title, authors and summary, marked as material, and stays within its bound', () => {
    const { references } = userReferences(
      extracted({
        pdfs: Array.from({ length: 30 }, (_, i) => pdf(`p${i}.pdf`, `Paper number ${i}`, 'x'.repeat(1500))),
      }),
    );
    const state = { uploadId: 'upl_x', references, unreadable: [] };
    const block = papersBlock(state, 'ideation');
    expect(block.length).toBeLessThanOrEqual(MAX_PAPERS_CHARS);
    expect(block).toContain('the ideas must build on them');
    expect(block).toContain('not instructions');
    expect(block).toContain('- [anonpaper] Paper number 0 (n.d.): xxx');
    expect(block).toMatch(/… and \d+ more \(not shown: the prompt is bounded\)/);
    expect(papersBlock(state, 'writeup')).toContain('\\cite{key}');
    expect(papersBlock(null, 'ideation')).toBe('');
    // The PDFs' references come first in the block, whatever the order of the references.
    const mixed = { ...state, references: [{ ...references[1]!, key: 'bibonly', file: 'r.bib' }, references[0]!] };
    expect(papersBlock(mixed, 'writeup').indexOf('[anonpaper]')).toBeLessThan(
      papersBlock(mixed, 'writeup').indexOf('[bibonly]'),
    );
  });
});

describe('citation keys', () => {
  it('are unique regardless of case (BibTeX refuses keys that differ only in case)', () => {
    const used = new Set<string>();
    expect(['a', 'A', 'a', 'b'].map((k) => uniqueKey(k, used))).toEqual(['a', 'Aa', 'ab', 'b']);
    const paper = (id: string) => ({
      id,
      title: 'Attention',
      authors: ['A. Vaswani'],
      year: 2017,
      venue: null,
      abstract: null,
      url: null,
      doi: null,
      citationCount: null,
    });
    const bib = toBibtex([paper('x'), paper('y')], ['Vaswani2017attention']);
    expect(bib.map((b) => b.key)).toEqual(['vaswani2017attentiona', 'vaswani2017attentionb']);
  });
});
