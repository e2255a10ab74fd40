import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeDropped, printableChar, printableLatex } from './latex-charset.js';
import { fallbackSections, type PaperDocument, renderPaper } from './paper-latex.js';
import { experimentNode } from './testing/fakes.js';

/** Characters the template prints as they are (T1 + utf8; checked by tests/e2e/paper-unicode.int.test.ts). */
const SETTABLE = /^[\t\n\r\x20-\x7e\u00a0-\u017f–—‘’‚“”„…•€™†‡‰‹›]$/u;

describe('printableLatex', () => {
  it('keeps accented Latin and typographic punctuation, sets Greek and operators as math, drops emoji and CJK', () => {
    const { text, dropped } = printableLatex('Müller é ñ — “x” ’ … α-β Ω ≤ 🚀 漢字 ok');
    expect(text).toBe(
      'Müller é ñ — “x” ’ … {\\ensuremath{\\alpha}}-{\\ensuremath{\\beta}} {\\ensuremath{\\Omega}} {\\ensuremath{\\leq}}   ok',
    );
    expect(dropped).toEqual(['🚀', '漢', '字']);
  });

  it('leaves LaTeX source and its line structure alone', () => {
    const source = '% comment\n\\section{A}\n\n$x_1^2$ \\cite{k}\t\\\\\r\n';
    expect(printableLatex(source)).toEqual({ text: source, dropped: [] });
  });

  it('composes combining accents, falls back to base letters and digits, and drops invisible marks silently', () => {
    expect(printableLatex('e\u0301 ệ ǎ β₂ x²').text).toBe('é e a {\\ensuremath{\\beta}}2 x²');
    // A heart with its emoji variation selector: the heart is reported, the selector is not; nor is a zero-width joiner.
    expect(printableLatex('❤\ufe0f a\u200db').dropped).toEqual(['❤']);
    expect(printableLatex('a\u0000b\u007fc\u0085d').text).toBe('abcd');
  });

  it('gives only characters the fonts can set, whatever the text (fuzz over all of Unicode)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (input) => {
        const { text } = printableLatex(input);
        for (const ch of text) expect(ch).toMatch(SETTABLE);
      }),
      { numRuns: 500 },
    );
    for (let code = 0; code < 0x3000; code++) {
      for (const ch of printableChar(String.fromCodePoint(code))) expect(ch, code.toString(16)).toMatch(SETTABLE);
    }
  });

  it('names dropped characters with their code points', () => {
    expect(describeDropped(['🚀', '漢'])).toBe('🚀 (U+1F680), 漢 (U+6F22)');
    expect(describeDropped(['a', 'b', 'c'], 2)).toBe('a (U+0061), b (U+0062) and 1 more');
  });
});

describe('the paper with text beyond ASCII', () => {
  it('maps every slot, the escaped goal of the fallback text included, and reports what it dropped', () => {
    const plan = {
      title: '🚀 Naïve α-scaling',
      hypothesis: 'β helps — “really”',
      metric: { name: 'acc', direction: 'maximize' as const, description: 'accuracy ≥ chance' },
      plan: 'Scale by α',
    };
    const node = experimentNode('n001', { primary: 0.5, metrics: { acc: 0.5 } });
    const sections = fallbackSections('Does α help 日本語 models?', plan, [node], ['γ matters 😀']);
    const doc: PaperDocument = {
      runId: 'run_1',
      date: '2026-12-06',
      sections,
      tables: { results: 'Table: α', ablations: '', preview: '', claims: [] },
      figures: [{ file: 'figure1.png', label: 'fig:1', caption: 'Loss — per δ 🚀' }],
      hasBibliography: false,
      reproducibility: '',
    };
    const { tex, dropped } = renderPaper(doc);
    expect(tex).toContain('\\title{ Naïve {\\ensuremath{\\alpha}}-scaling}');
    expect(tex).toContain('the question: Does {\\ensuremath{\\alpha}} help  models?');
    expect(tex).toContain('\\caption{Loss — per {\\ensuremath{\\delta}} }');
    expect(tex).toContain('accuracy {\\ensuremath{\\geq}} chance');
    for (const ch of tex) expect(ch).toMatch(SETTABLE);
    expect(dropped.sort()).toEqual(['日', '本', '語', '😀', '🚀'].sort());
  });
});
