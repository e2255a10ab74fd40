import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ExperimentNode, ResearchPlan } from './journal.js';
import {
  escapeLatex,
  LATEX_SPECIALS,
  latexErrors,
  type PaperDocument,
  pageCount,
  renderPaper,
  resultsTex,
} from './paper-latex.js';
import type { PaperSections } from './persisted-shapes.js';
import type { SeedResult } from './run-state.js';
import { experimentNode } from './testing/fakes.js';

/** The escapes escapeLatex writes, longest first, so that a scan left to right reads each as one token. */
const ESCAPE = new RegExp(
  Object.values(LATEX_SPECIALS)
    .sort((a, b) => b.length - a.length)
    .map((e) => e.replace(/[\\{}$^]/g, (c) => `\\${c}`))
    .join('|'),
  'g',
);
const UNESCAPE = Object.fromEntries(Object.entries(LATEX_SPECIALS).map(([char, written]) => [written, char]));
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

describe('escapeLatex', () => {
  it('escapes every special character', () => {
    expect(escapeLatex('50% of $x_1$ & {a} #1 ~ ^ \\')).toBe(
      '50\\% of \\$x\\_1\\$ \\& \\{a\\} \\#1 \\textasciitilde{} \\textasciicircum{} \\textbackslash{}',
    );
    expect(escapeLatex('a\u0000b\rc\td\ne')).toBe('abc\td\ne');
    // DEL is an invalid character to TeX (catcode 15): left in, it stops the compilation.
    expect(escapeLatex('a\u007fb')).toBe('ab');
  });

  it('never leaves an unescaped special character, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const rest = escapeLatex(text).replace(ESCAPE, '');
        expect(rest).not.toMatch(/[\\{}$&#%_^~]/);
        expect(rest).not.toMatch(CONTROL);
      }),
    );
  });

  it('prints the text as it was (less control characters): unescaping gives it back', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'\\{}$&#%_^~ab1 \n\u0001\u007f') }), (text) => {
        const printed = escapeLatex(text).replace(ESCAPE, (written) => UNESCAPE[written]!);
        expect(printed).toBe(text.replace(CONTROL, ''));
      }),
    );
  });
});

const sections: PaperSections = {
  title: 'Scaling & 100% of it',
  abstract: 'ABSTRACT',
  introduction: 'INTRO',
  related_work: 'RELATED',
  method: 'METHOD $x$',
  experimental_setup: 'SETUP',
  results: 'RESULTS',
  ablations: 'ABLATIONS',
  limitations: 'LIMITS',
  conclusion: 'CONCLUSION',
};
const doc = (over: Partial<PaperDocument> = {}): PaperDocument => ({
  runId: 'run_1',
  date: '2026-12-05',
  sections,
  tables: { results: 'RESULTS-TABLE', ablations: 'ABLATION-TABLE', preview: '', claims: [] },
  figures: [{ file: 'figure1.png', label: 'fig:1', caption: 'Loss over 10% of steps' }],
  hasBibliography: true,
  reproducibility: 'REPRO',
  ...over,
});

describe('renderPaper', () => {
  it('fills every slot of the shipped template: the title escaped, the prose as the model wrote it', () => {
    const { tex } = renderPaper(doc());
    expect(tex.replace(/^%.*$/gm, '')).not.toMatch(/@@[A-Z_]+@@/);
    expect(tex).toContain('\\title{Scaling \\& 100\\% of it}');
    expect(tex).toContain('\\texttt{run\\_1}');
    expect(tex).toContain('METHOD $x$');
    expect(tex).toContain('\\caption{Loss over 10\\% of steps}');
    expect(tex).toContain('\\bibliography{references}');
    expect(renderPaper(doc({ hasBibliography: false })).tex).not.toContain('\\bibliography{');
  });

  it('puts the text of a section in verbatim, even when it looks like a slot or a replacement pattern', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        const { tex } = renderPaper(
          doc({ sections: { ...sections, results: `${text} @@TITLE@@ $& $1` } }),
          '[@@RESULTS@@]',
        );
        expect(tex).toBe(`[${text} @@TITLE@@ $& $1]`);
      }),
    );
  });

  it('leaves a slot it does not know as it is', () => {
    expect(renderPaper(doc(), '@@TITLE@@ @@UNKNOWN@@').tex).toBe('Scaling \\& 100\\% of it @@UNKNOWN@@');
  });
});

const plan: ResearchPlan = {
  title: 'T',
  hypothesis: 'H',
  metric: { name: 'val_loss', direction: 'minimize', description: 'validation loss' },
  plan: 'P',
};
const node = (id: string, primary: number | null, metrics: Record<string, number> = {}): ExperimentNode =>
  experimentNode(id, primary === null ? { buggy: true } : { primary, metrics: { val_loss: primary, ...metrics } });
const macro = (macros: { name: string; value: string }[], name: string) => macros.find((m) => m.name === name)?.value;

describe('resultsTex', () => {
  it('defines every number the prose may cite from the recorded metrics, each traced to its node', () => {
    const nodes = [node('n001', 0.5, { acc: 0.8 }), node('n002', null), node('n003', 0.25, { acc: 0.9 })];
    const { tex, macros, claims } = resultsTex(plan, nodes, null);
    expect(macro(macros, '\\metricname')).toBe('val\\_loss');
    expect(macro(macros, '\\bestvalue')).toBe('\\ensuremath{0.25}');
    expect(macro(macros, '\\bestiteration')).toBe('n003');
    expect(macro(macros, '\\firstvalue')).toBe('\\ensuremath{0.5}');
    expect(macro(macros, '\\numexperiments')).toBe('3');
    expect(macro(macros, '\\numfailed')).toBe('1');
    expect(macro(macros, '\\numseeds')).toBe('1');
    expect(macro(macros, '\\seedmean')).toBe('n/a');
    expect(tex).toContain('\\@namedef{autolab@node@n001@acc}{\\ensuremath{0.8}}');
    expect(tex).toContain('\\@namedef{autolab@best@acc}{\\ensuremath{0.9}}');
    expect(tex).not.toContain('autolab@node@n002');
    expect(claims).toContainEqual(
      expect.objectContaining({ id: 'macro:\\bestvalue', nodeId: 'n003', artifact: 'nodes/n003/results.json' }),
    );
    expect(claims).toContainEqual(expect.objectContaining({ id: 'macro:\\result{acc}', value: 0.9, nodeId: 'n003' }));
  });

  it('says n/a when nothing worked, and reports the seeds at matched precision', () => {
    const none = resultsTex(plan, [node('n001', null)], null);
    expect(macro(none.macros, '\\bestvalue')).toBe('n/a');
    expect(macro(none.macros, '\\firstvalue')).toBe('n/a');
    expect(none.tex).not.toContain('\\@namedef{autolab@best@');
    const seeds: SeedResult = {
      nodeId: 'n001',
      seeds: [1, 2, 3],
      values: [0.39, 0.41, 0.388],
      mean: 0.3959,
      std: 0.01509,
      failed: [],
      ignored: false,
    };
    const spread = resultsTex(plan, [node('n001', 0.39)], seeds);
    expect(macro(spread.macros, '\\seedmean')).toBe('\\ensuremath{0.396}');
    expect(macro(spread.macros, '\\seedstd')).toBe('\\ensuremath{0.015}');
    expect(macro(spread.macros, '\\numseeds')).toBe('3');
    expect(spread.claims).toContainEqual(expect.objectContaining({ id: 'macro:\\seedmean', kind: 'seed_summary' }));
  });
});

describe('latexErrors', () => {
  const lines = [
    'This is pdfTeX',
    '(./paper.tex',
    '! Undefined control sequence.',
    'l.42 \\bestvalu',
    '               e',
    'paper.tex:57: LaTeX Error: Environment foo undefined.',
    'See the LaTeX manual.',
    'Type  H <return>  for immediate help.',
    'Output written on paper.pdf (2 pages, 1000 bytes).',
  ];
  const log = lines.join('\n');

  it('keeps each error with the lines that locate it, once', () => {
    // The two errors and what follows each; not the banner, the file list or the page count.
    expect(latexErrors(log)).toBe(lines.slice(2, 8).join('\n'));
  });

  it('falls back to the end of the log, and clips to the limit', () => {
    const quiet = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    expect(latexErrors(quiet)).toBe(Array.from({ length: 40 }, (_, i) => `line ${i + 10}`).join('\n'));
    expect(latexErrors(log, 10)).toHaveLength(10);
  });
});

describe('pageCount', () => {
  it('reads the pages from the log', () => {
    expect(pageCount('Output written on paper.pdf (12 pages, 345678 bytes).')).toBe(12);
    expect(pageCount('Output written on out/paper.pdf (1 page, 9 bytes).')).toBe(1);
    expect(pageCount('No pages of output.')).toBeNull();
  });
});
