/**
 * The characters the paper template can print (templates/paper.tex: `fontenc` T1, `inputenc` utf8, lmodern; pdflatex)
 * and what becomes of the others. Every file the LaTeX sandbox compiles goes through `printableLatex`, and the
 * BibTeX sanitiser through `printableChar`, so no text (the goal, an idea's title, a caption, the model's prose, a
 * user's .bib) can stop pdflatex with "Unicode character … not set up for use with LaTeX".
 */

/** Latin-1 and Latin Extended-A characters that T1-encoded fonts with utf8 input do not define (checked in the image). */
const UNSET_LATIN = new Set([0x126, 0x127, 0x138, 0x13f, 0x140, 0x149, 0x166, 0x167, 0x17f]);
/** Their nearest letters (they have no decomposition to fall back on). */
const UNSET_REPLACEMENTS: Record<string, string> = { Ħ: 'H', ħ: 'h', Ŧ: 'T', ŧ: 't', ĸ: 'k' };
/** Punctuation outside Latin-1 that utf8 input defines (T1 and TS1, which the kernel loads). */
const SET_PUNCTUATION = new Set('–—‘’‚“”„…•€™†‡‰‹›');

/** Greek letters by their LaTeX command names, in alphabet order (omicron is an o). */
export const GREEK = [
  'alpha',
  'beta',
  'gamma',
  'delta',
  'epsilon',
  'zeta',
  'eta',
  'theta',
  'iota',
  'kappa',
  'lambda',
  'mu',
  'nu',
  'xi',
  'pi',
  'rho',
  'sigma',
  'tau',
  'upsilon',
  'phi',
  'chi',
  'psi',
  'omega',
];
export const GREEK_CAPITALS = [
  'Gamma',
  'Delta',
  'Theta',
  'Lambda',
  'Xi',
  'Pi',
  'Sigma',
  'Upsilon',
  'Phi',
  'Psi',
  'Omega',
];

/**
 * Characters set as math symbols (amsmath is loaded): Greek letters, which ML text is full of, and a few operators.
 * `\ensuremath` makes them print in text and in math alike; the braces keep a following letter from joining the
 * command name.
 */
const MATH_BY_CHAR = new Map<string, string>([
  ...[...'αβγδεζηθικλμνξπρστυφχψω'].map((c, i) => [c, GREEK[i]!] as [string, string]),
  ...[...'ΓΔΘΛΞΠΣΥΦΨΩ'].map((c, i) => [c, GREEK_CAPITALS[i]!] as [string, string]),
  ['ς', 'varsigma'],
  ['ϵ', 'epsilon'],
  ['ϕ', 'phi'],
  ['ϑ', 'vartheta'],
  ['−', '-'],
  ['±', '\\pm'],
  ['×', '\\times'],
  ['÷', '\\div'],
  ['≤', '\\leq'],
  ['≥', '\\geq'],
  ['≈', '\\approx'],
  ['≠', '\\neq'],
  ['∼', '\\sim'],
  ['→', '\\rightarrow'],
  ['←', '\\leftarrow'],
  ['∞', '\\infty'],
  ['∂', '\\partial'],
  ['∇', '\\nabla'],
  ['∈', '\\in'],
  ['∑', '\\sum'],
  ['√', '\\surd'],
  ['⋅', '\\cdot'],
]);
/** Greek capitals drawn like Latin ones (LaTeX has no commands for them) and omicron. */
const GREEK_AS_LATIN: Record<string, string> = {
  Α: 'A',
  Β: 'B',
  Ε: 'E',
  Ζ: 'Z',
  Η: 'H',
  Ι: 'I',
  Κ: 'K',
  Μ: 'M',
  Ν: 'N',
  Ο: 'O',
  Ρ: 'P',
  Τ: 'T',
  Χ: 'X',
  ο: 'o',
};

/**
 * One character as something pdflatex sets with the template's fonts: itself, a math symbol, its nearest letters
 * (a letter with marks the fonts lack, ệ → e; ₂ → 2), or '' when there is nothing to print (CJK, emoji, most
 * symbols). ASCII is itself (escaping LaTeX's specials is the caller's business); tab and line ends are kept, other
 * control characters dropped (TeX rejects DEL and most of the others).
 */
export function printableChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if ((code >= 0x20 && code < 0x7f) || ch === '\n' || ch === '\t' || ch === '\r') return ch;
  if (code < 0xa0) return '';
  const math = MATH_BY_CHAR.get(ch);
  if (math) return `{\\ensuremath{${math.startsWith('\\') || math === '-' ? math : `\\${math}`}}}`;
  if (code <= 0x17f && !UNSET_LATIN.has(code)) return ch;
  if (SET_PUNCTUATION.has(ch)) return ch;
  if (/\s/u.test(ch)) return ' ';
  const latin = UNSET_REPLACEMENTS[ch] ?? GREEK_AS_LATIN[ch];
  if (latin) return latin;
  const base = ch.normalize('NFKD').replace(/\p{M}/gu, '');
  return base !== ch ? [...base].map(printableChar).join('') : '';
}

/** Dropped characters not worth telling anyone about: invisible formatting and marks (a variation selector, ZWJ). */
const SILENT = /^[\p{Cc}\p{Cf}\p{M}]$/u;

/**
 * LaTeX source (a whole file: the model's prose, generated tables, escaped plain text) with every character the
 * template cannot print replaced by what it can (`printableChar`), and the distinct visible characters that had to
 * be dropped, for the run's warning. Composed first (NFC), so that a letter followed by a combining accent prints as
 * the accented letter.
 */
export function printableLatex(text: string): { text: string; dropped: string[] } {
  let out = '';
  const dropped = new Set<string>();
  for (const ch of text.normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if (code < 0x7f) {
      out += printableChar(ch);
      continue;
    }
    const printed = printableChar(ch);
    if (printed === '' && !SILENT.test(ch)) dropped.add(ch);
    out += printed;
  }
  return { text: out, dropped: [...dropped] };
}

/** What a warning says about dropped characters: each with its code point, so an invisible one can be identified. */
export function describeDropped(dropped: string[], max = 40): string {
  const shown = dropped
    .slice(0, max)
    .map((c) => `${c} (U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')})`);
  return `${shown.join(', ')}${dropped.length > max ? ` and ${dropped.length - max} more` : ''}`;
}
