import { describe, expect, it } from 'vitest';
import { bibNames, latexToBib, latexToPlain, plainToBib } from './bib-text.js';
import { seededRandom } from './tree-search.js';

/** Braces as BibTeX counts them: every `{` and `}`, escaped or not. */
function bibtexBalanced(text: string): boolean {
  let depth = 0;
  for (const c of text) {
    if (c === '{') depth++;
    if (c === '}' && --depth < 0) return false;
  }
  return depth === 0;
}

/** Every command the sanitised text may contain. */
const ALLOWED_COMMANDS =
  /^\\(?:[&%$#_"'`^~=.]|textbraceleft|textbraceright|textbackslash|textasciicircum|textasciitilde|ensuremath|ldots|[cvuHkrdbt]|o|O|l|L|ss|ae|AE|oe|OE|aa|AA|i|j|[A-Za-z]*(?:alpha|beta|gamma|delta|epsilon|zeta|eta|theta|iota|kappa|lambda|mu|nu|xi|pi|rho|sigma|tau|upsilon|phi|chi|psi|omega|Gamma|Delta|Theta|Lambda|Xi|Pi|Sigma|Upsilon|Phi|Psi|Omega)|ell|infty|times|cdot|pm|leq|geq|le|ge|neq|approx|sim|to|rightarrow|leftarrow|partial|nabla)$/;

function commands(text: string): string[] {
  return [...text.matchAll(/\\(?:[A-Za-z]+|.)/g)].map((m) => m[0]);
}

describe('latexToBib', () => {
  it('keeps the LaTeX people write in BibTeX: accents, protected capitals, escaped specials, Greek', () => {
    expect(latexToBib('Sparse {BERT} for G{\\"o}del and \\c{c}a, \\&, 100\\%')).toBe(
      'Sparse {BERT} for G{\\"o}del and \\c {c}a, \\&, 100\\%',
    );
    expect(latexToBib('$\\alpha$-grokking in {\\o}resund')).toBe('{\\ensuremath{\\alpha}}-grokking in {{\\o}}resund');
    expect(latexToBib('Fast \\emph{and} \\textbf{bold}')).toBe('Fast {and} {bold}');
  });

  it('drops every other command, unmatched braces and characters the fonts lack', () => {
    const hostile =
      '\\immediate\\write18{rm -rf /}\\input{/etc/passwd}\\catcode`\\@=11 \\def\\x{y} \\{ brace} } { 100% & #1 _x^^5c $x^2$ 漢字 😀 \\end{document}';
    const safe = latexToBib(hostile);
    expect(safe).not.toMatch(/\\(write|input|immediate|catcode|def|end)\b/);
    expect(safe).toContain('\\textbraceleft{}');
    expect(safe).toContain('100\\% \\& \\#1 \\_x\\textasciicircum{}\\textasciicircum{}5c');
    expect(safe).not.toMatch(/[漢字😀$]/u);
    expect(bibtexBalanced(safe)).toBe(true);
    for (const command of commands(safe)) expect(command).toMatch(ALLOWED_COMMANDS);
  });

  it('never lets an accent go without its argument', () => {
    expect(latexToBib('end \\"')).toBe('end');
    expect(latexToBib('{\\"}x')).toBe('{}x');
    // As in TeX, a control word ends at the space after it (write `{\\i} and` to keep the space).
    expect(latexToBib('\\"\\i and \\v{s} \\"{\\i} x')).toBe('\\"{\\i}and \\v {s} \\"{{\\i}} x');
  });

  it('cuts a long value after about its limit, closing the groups open there and never after an accent', () => {
    const cut = latexToBib(`{${'^'.repeat(400)} {\\"{o}`, 100);
    expect(cut.length).toBeLessThan(130);
    expect(cut.endsWith('}')).toBe(true);
    expect(bibtexBalanced(cut)).toBe(true);
    expect(latexToBib('ab\\"o tail', 3)).toBe('ab\\"o');
    expect(plainToBib('%'.repeat(100), 10)).toBe('\\%\\%\\%\\%\\%');
  });

  it('whatever it is given, returns BibTeX-balanced text with only allowed commands (seeded fuzz)', () => {
    let counter = 0;
    const random = () => seededRandom('bib-text', counter++);
    const pieces = [
      '\\',
      '{',
      '}',
      '$',
      '%',
      '&',
      '#',
      '_',
      '^',
      '~',
      '"',
      'a',
      ' ',
      'é',
      '漢',
      '\\write18',
      '\\"',
      '\\c',
      '\\o',
      '\\alpha',
      '\\{',
      '\\}',
      '\\\\',
      '@',
      ',',
      'and',
    ];
    for (let n = 0; n < 2000; n++) {
      const length = Math.floor(random() * 30);
      const raw = Array.from({ length }, () => pieces[Math.floor(random() * pieces.length)]).join('');
      const safe = latexToBib(raw, 1 + Math.floor(random() * 40));
      expect(bibtexBalanced(safe), raw).toBe(true);
      // An accent is always followed by its argument (a letter, a group or a letter command), never by a brace that closes.
      expect(safe, raw).not.toMatch(/\\(?:["'`^~=.]|[cvuHkrdbt] )\}/);
      for (const command of commands(safe)) expect(command, raw).toMatch(ALLOWED_COMMANDS);
      expect(bibtexBalanced(bibNames(safe)), raw).toBe(true);
    }
  });
});

describe('plainToBib', () => {
  it('escapes every special, braces as words, and keeps only characters the fonts set', () => {
    expect(plainToBib('A {weird} title_with 50% & $5 #1 ~ ^ \\ path')).toBe(
      'A \\textbraceleft{}weird\\textbraceright{} title\\_with 50\\% \\& \\$5 \\#1 \\textasciitilde{} \\textasciicircum{} \\textbackslash{} path',
    );
    expect(plainToBib('Müller – αβ, Ħ, ệ 漢')).toBe('Müller – {\\ensuremath{\\alpha}}{\\ensuremath{\\beta}}, H, e');
  });
});

describe('bibNames', () => {
  it('drops empty names and trailing commas, braces names BibTeX would refuse', () => {
    expect(bibNames('Smith, and a, b, c, d and and , and Doe, Jane')).toBe('Smith and {a, b, c, d} and Doe, Jane');
    expect(bibNames('{Research and Development} and Jones')).toBe('{Research and Development} and Jones');
  });
});

describe('latexToPlain', () => {
  it('reads a BibTeX value as text for prompts', () => {
    expect(latexToPlain('Sparse {BERT} for G{\\"o}del \\& $\\alpha$-tests')).toBe(
      'Sparse BERT for Godel & alpha-tests',
    );
  });
});
