import { GREEK, GREEK_CAPITALS, printableChar } from './latex-charset.js';
import { LATEX_SPECIALS } from './paper-latex.js';

/**
 * Text that goes into references.bib from outside (the literature services, the user's own .bib files and PDFs),
 * made safe for BibTeX and pdflatex: balanced braces, no control sequence but a short list of accents, letters and
 * symbols that take no risky argument (so no `\write18`, `\input`, `\def`, `\catcode`), the LaTeX specials escaped,
 * and only characters the template's fonts can set (latex-charset.ts: any other Unicode character stops pdflatex).
 */

/** Math symbols kept (inside \ensuremath), by command name; they take no argument. */
const MATH_WORDS = new Set([
  ...GREEK,
  ...GREEK_CAPITALS,
  'varsigma',
  'varepsilon',
  'vartheta',
  'varphi',
  'ell',
  'infty',
  'times',
  'cdot',
  'pm',
  'leq',
  'geq',
  'le',
  'ge',
  'neq',
  'approx',
  'sim',
  'to',
  'rightarrow',
  'leftarrow',
  'partial',
  'nabla',
]);
/** Accents that take one argument: kept only when a letter or a group follows. */
const ACCENT_SYMBOLS = new Set(['"', "'", '`', '^', '~', '=', '.']);
const ACCENT_WORDS = new Set(['c', 'v', 'u', 'H', 'k', 'r', 'd', 'b', 't']);
/** Letters as commands (`{\o}`, `{\ss}`): no argument. */
const LETTER_WORDS = new Set(['o', 'O', 'l', 'L', 'ss', 'ae', 'AE', 'oe', 'OE', 'aa', 'AA', 'i', 'j']);
/** Commands replaced by plain text. */
const TEXT_WORDS: Record<string, string> = {
  textendash: '--',
  textemdash: '---',
  ldots: '\\ldots{}',
  dots: '\\ldots{}',
  log: 'log',
  exp: 'exp',
  max: 'max',
  min: 'min',
  LaTeX: 'LaTeX',
  TeX: 'TeX',
};
/** Escaped specials (`\&`, `\%`…) kept as they are. */
const ESCAPED_SYMBOLS = new Set(['&', '%', '$', '#', '_']);
/**
 * Literal braces are words: BibTeX counts `\{` as an opening brace like any other, so an escaped brace would
 * unbalance the entry for BibTeX even where LaTeX would read it as a character.
 */
const PLAIN_SPECIALS: Record<string, string> = {
  ...LATEX_SPECIALS,
  '{': '\\textbraceleft{}',
  '}': '\\textbraceright{}',
};

/** Characters of one sanitised field value, about (escapes make text longer: the cut keeps braces balanced). */
const MAX_FIELD_CHARS = 1000;

/** Plain text (a title from a literature service, a PDF's metadata) as BibTeX field content: every special escaped. */
export function plainToBib(text: string, max = MAX_FIELD_CHARS): string {
  let out = '';
  for (const c of text.normalize('NFC').replace(/\s+/g, ' ').trim()) {
    if (out.length >= max) break;
    out += PLAIN_SPECIALS[c] ?? printableChar(c);
  }
  return out.trim();
}

type Token =
  | { t: 'word'; name: string }
  | { t: 'symbol'; c: string }
  | { t: 'open' }
  | { t: 'close' }
  | { t: 'char'; c: string };

function tokenize(raw: string): Token[] {
  const tokens: Token[] = [];
  const chars = [...raw.normalize('NFC')];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '\\') {
      let name = '';
      while (i + 1 < chars.length && /[A-Za-z]/.test(chars[i + 1]!)) name += chars[++i];
      if (name) {
        // TeX skips the spaces after a control word; a starred form is the same command here.
        if (chars[i + 1] === '*') i++;
        while (chars[i + 1] === ' ') i++;
        tokens.push({ t: 'word', name });
      } else if (i + 1 < chars.length) tokens.push({ t: 'symbol', c: chars[++i]! });
    } else if (c === '{') tokens.push({ t: 'open' });
    else if (c === '}') tokens.push({ t: 'close' });
    else tokens.push({ t: 'char', c });
  }
  return tokens;
}

/** Indexes of braces without a partner (dropped: an unbalanced brace breaks BibTeX and LaTeX alike). */
function unmatchedBraces(tokens: Token[]): Set<number> {
  const open: number[] = [];
  const unmatched = new Set<number>();
  tokens.forEach((tok, i) => {
    if (tok.t === 'open') open.push(i);
    else if (tok.t === 'close' && open.pop() === undefined) unmatched.add(i);
  });
  for (const i of open) unmatched.add(i);
  return unmatched;
}

/**
 * A field value from the user's .bib (LaTeX as people write it in BibTeX: `{\"o}`, `{BERT}`, `$\alpha$`, `\&`) as
 * safe LaTeX: braces balanced (unmatched ones dropped), accents, special letters, Greek and a few math symbols kept,
 * every other command dropped (its argument stays as text), math mode unwrapped, the specials escaped. Cut after
 * about `max` characters, with the groups open there closed.
 */
export function latexToBib(raw: string, max = MAX_FIELD_CHARS): string {
  const tokens = tokenize(raw);
  const drop = unmatchedBraces(tokens);
  const at = (i: number) => (drop.has(i) ? null : (tokens[i] ?? null));
  // An accent needs an argument: a group, a letter, or a letter command (`\"\i`).
  const argumentFollows = (i: number) => {
    const next = at(i + 1);
    return (
      next !== null &&
      (next.t === 'open' ||
        (next.t === 'char' && /[A-Za-z]/.test(next.c)) ||
        (next.t === 'word' && LETTER_WORDS.has(next.name)))
    );
  };
  let out = '';
  let depth = 0;
  // An accent just written must get its argument before the text may be cut.
  let accent = false;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    if (drop.has(i)) continue;
    if (out.length >= max && !accent) break;
    accent = false;
    switch (tok.t) {
      case 'open':
        out += '{';
        depth++;
        break;
      case 'close':
        out += '}';
        depth--;
        break;
      case 'symbol':
        if (ESCAPED_SYMBOLS.has(tok.c)) out += `\\${tok.c}`;
        else if (tok.c === '{' || tok.c === '}') out += PLAIN_SPECIALS[tok.c];
        else if (ACCENT_SYMBOLS.has(tok.c) && argumentFollows(i)) {
          out += `\\${tok.c}`;
          accent = true;
        } else if (tok.c === ' ' || tok.c === ',' || tok.c === '\\') out += ' ';
        // Any other control symbol (`\@`, `\-`, `\|`…) is dropped.
        break;
      case 'word':
        if (ACCENT_WORDS.has(tok.name) && argumentFollows(i)) {
          out += `\\${tok.name} `;
          accent = true;
        } else if (LETTER_WORDS.has(tok.name)) out += `{\\${tok.name}}`;
        else if (MATH_WORDS.has(tok.name)) out += `{\\ensuremath{\\${tok.name}}}`;
        else if (TEXT_WORDS[tok.name] !== undefined) out += TEXT_WORDS[tok.name];
        break;
      case 'char':
        // `$` (math mode) is unwrapped: its content is set as text, where `^` and `_` are escaped.
        if (tok.c === '$') break;
        if (tok.c === '~') out += '~';
        else out += PLAIN_SPECIALS[tok.c] ?? printableChar(tok.c);
        break;
    }
  }
  return `${out}${'}'.repeat(depth)}`.replace(/\s+/g, ' ').trim();
}

/** A field value as plain text for prompts: commands and braces gone, accents dropped onto their letters. */
export function latexToPlain(raw: string): string {
  return raw
    .replace(/\\([A-Za-z]+)\*?\s*/g, (_, name: string) =>
      TEXT_WORDS[name] !== undefined ? TEXT_WORDS[name]!.replace(/\\ldots\{\}/, '…') : MATH_WORDS.has(name) ? name : '',
    )
    .replace(/\\([&%$#_{}])/g, '$1')
    .replace(/\\./g, '')
    .replace(/[{}$]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * An author or editor list (already safe LaTeX) as names BibTeX accepts: empty ones dropped, commas at either end
 * removed and a name with more than two commas braced (BibTeX stops with an error on both, and latexmk with it).
 */
export function bibNames(list: string): string {
  const names = splitNames(list)
    .map((name) => name.replace(/^[\s,]+|[\s,]+$/g, ''))
    .filter((name) => name.length > 0 && name.toLowerCase() !== 'and');
  return names.map((name) => (topLevelCommas(name) > 2 ? `{${name}}` : name)).join(' and ');
}

/** Splits on ` and ` outside braces (as BibTeX does). */
function splitNames(value: string): string[] {
  const names: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (depth === 0 && /\s/.test(c!)) {
      const m = /^\s+and\s+/i.exec(value.slice(i));
      if (m) {
        names.push(value.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  names.push(value.slice(start));
  return names;
}

function topLevelCommas(name: string): number {
  let depth = 0;
  let commas = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) commas++;
  }
  return commas;
}
