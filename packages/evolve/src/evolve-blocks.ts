import { createTwoFilesPatch } from 'diff';

/**
 * The regions of a user's program the model may change. The user marks them with comment lines
 * (`# EVOLVE-BLOCK-START` … `# EVOLVE-BLOCK-END`, any of the comment leaders `#`, `//`, `--`, `%`, `;`); a file
 * without markers is one block. Everything outside the blocks, the marker lines included, is fixed: every patch the
 * model proposes is applied to the blocks only, and a patch that would touch fixed code is refused, so the fixed code
 * of every candidate is byte-identical to the user's.
 */

export type Segment = { kind: 'fixed'; text: string } | { kind: 'evolve'; text: string };

export interface ParsedProgram {
  /** In file order; joining every segment's text gives the source back byte for byte. */
  segments: Segment[];
  /** False when the file has no markers (then it is one evolve segment holding the whole file). */
  marked: boolean;
}

/** One SEARCH/REPLACE edit: `search` must occur exactly once inside the evolve blocks. */
export interface DiffEdit {
  search: string;
  replace: string;
}

export type PatchResult = { ok: true; program: string } | { ok: false; error: string };

/** A program whose markers do not pair up; `line` (1-based) is where the problem shows. */
export class EvolveBlockError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

const MARKER = /^[ \t]*(?:#|\/\/|--|%|;)[ \t]*EVOLVE-BLOCK-(START|END)\b.*$/;

/** The lines of `text`, each with its own line ending (`\n` or `\r\n`; the last may have none). */
function linesOf(text: string): string[] {
  return text.match(/[^\n]*\n|[^\n]+$/g) ?? [];
}

function markerOf(line: string): 'START' | 'END' | null {
  const match = MARKER.exec(line.replace(/\r?\n$/, ''));
  return match ? (match[1] as 'START' | 'END') : null;
}

/** Splits a program into fixed and evolve segments; throws `EvolveBlockError` for unbalanced or nested markers. */
export function parseProgram(source: string): ParsedProgram {
  const segments: Segment[] = [];
  let current: Segment = { kind: 'fixed', text: '' };
  let openedOn = 0;
  let marked = false;
  linesOf(source).forEach((line, index) => {
    const lineNo = index + 1;
    const marker = markerOf(line);
    if (marker === 'START') {
      if (openedOn) {
        throw new EvolveBlockError(
          `line ${lineNo}: EVOLVE-BLOCK-START inside the block opened on line ${openedOn}; evolve blocks cannot be nested (close the first with EVOLVE-BLOCK-END)`,
          lineNo,
        );
      }
      marked = true;
      openedOn = lineNo;
      current.text += line;
      segments.push(current);
      current = { kind: 'evolve', text: '' };
      return;
    }
    if (marker === 'END') {
      if (!openedOn) {
        throw new EvolveBlockError(`line ${lineNo}: EVOLVE-BLOCK-END without an EVOLVE-BLOCK-START before it`, lineNo);
      }
      openedOn = 0;
      segments.push(current);
      current = { kind: 'fixed', text: line };
      return;
    }
    current.text += line;
  });
  if (openedOn) {
    throw new EvolveBlockError(
      `line ${openedOn}: the EVOLVE-BLOCK-START on this line is never closed by an EVOLVE-BLOCK-END`,
      openedOn,
    );
  }
  if (!marked) return { segments: [{ kind: 'evolve', text: source }], marked: false };
  segments.push(current);
  return { segments, marked: true };
}

/** The text of the evolve blocks, joined: what the model changes, and what novelty is measured on. */
export function evolveText(source: string): string {
  return parseProgram(source)
    .segments.filter((segment) => segment.kind === 'evolve')
    .map((segment) => segment.text)
    .join('');
}

/** Where `search` matches in `text`: [start, end) spans, and the replacement that goes there. */
interface Match {
  at: number;
  end: number;
  replace: string;
}

function exactMatches(text: string, edit: DiffEdit): Match[] {
  const found: Match[] = [];
  for (let at = text.indexOf(edit.search); at !== -1; at = text.indexOf(edit.search, at + 1)) {
    found.push({ at, end: at + edit.search.length, replace: edit.replace });
  }
  return found;
}

const trimLineEnd = (line: string): string => line.replace(/\s+$/, '');

/**
 * Matches of whole lines that differ from the search only in trailing whitespace (models often drop or add it). The
 * span ends before the last line's line ending, so a replacement written with a final line ending loses it.
 */
function looseMatches(text: string, edit: DiffEdit): Match[] {
  const want = edit.search.split('\n').map(trimLineEnd);
  if (want.at(-1) === '') want.pop();
  if (want.every((line) => line === '')) return [];
  const lines: { start: number; end: number }[] = [];
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf('\n', start);
    const end = newline === -1 ? text.length : newline;
    lines.push({ start, end });
    start = end + 1;
  }
  const replace = edit.search.endsWith('\n') ? edit.replace.replace(/\r?\n$/, '') : edit.replace;
  const found: Match[] = [];
  for (let i = 0; i + want.length <= lines.length; i++) {
    const same = want.every((line, j) => trimLineEnd(text.slice(lines[i + j]!.start, lines[i + j]!.end)) === line);
    if (same) found.push({ at: lines[i]!.start, end: lines[i + want.length - 1]!.end, replace });
  }
  return found;
}

const preview = (text: string): string => {
  const first = text.split('\n').find((line) => line.trim() !== '') ?? text;
  return JSON.stringify(first.length > 80 ? `${first.slice(0, 77)}...` : first);
};

function parseOrError(source: string): ParsedProgram | string {
  try {
    return parseProgram(source);
  } catch (err) {
    if (err instanceof EvolveBlockError) return `the program's evolve markers are broken: ${err.message}`;
    throw err;
  }
}

/**
 * Joins segments back into a program after their evolve texts changed. A block followed by fixed code gets a final
 * line ending if its new text lacks one (otherwise the END marker would no longer be a line of its own). The result
 * is re-parsed: it must have the same fixed segments, so no edit can add, remove or move a marker.
 */
function rebuild(original: ParsedProgram, blocks: string[]): PatchResult {
  const eol = original.segments.some((s) => s.text.includes('\r\n')) ? '\r\n' : '\n';
  let evolveIndex = 0;
  const parts = original.segments.map((segment, index) => {
    if (segment.kind === 'fixed') return segment.text;
    let text = blocks[evolveIndex++]!;
    const followedByFixed = index < original.segments.length - 1;
    if (followedByFixed && text !== '' && !text.endsWith('\n')) text += eol;
    return text;
  });
  const program = parts.join('');
  const reparsed = parseOrError(program);
  const sameFixed =
    typeof reparsed !== 'string' &&
    reparsed.marked === original.marked &&
    reparsed.segments.length === original.segments.length &&
    reparsed.segments.every(
      (segment, i) =>
        segment.kind === original.segments[i]!.kind && (segment.kind === 'evolve' || segment.text === parts[i]),
    );
  if (!sameFixed) {
    return {
      ok: false,
      error: 'the new code contains an EVOLVE-BLOCK-START or EVOLVE-BLOCK-END line; the markers are fixed',
    };
  }
  return { ok: true, program };
}

/**
 * Applies SEARCH/REPLACE edits in order, each to the program as the edits before it left it. An edit applies when its
 * `search` text occurs exactly once inside the evolve blocks (it may occur in fixed code too: only the copy in a block
 * can be meant, since fixed code cannot change). When it occurs nowhere as written, whole lines that differ from it
 * only in trailing whitespace are matched instead, under the same rule. Refused, with a reason the model can act on: an empty search, a
 * search found nowhere, found only in fixed code or across a marker, found more than once inside the blocks, or a
 * replacement that adds a marker line.
 */
export function applyDiff(source: string, edits: readonly DiffEdit[]): PatchResult {
  const parsed = parseOrError(source);
  if (typeof parsed === 'string') return { ok: false, error: parsed };
  if (edits.length === 0) return { ok: false, error: 'the reply contains no SEARCH/REPLACE edit' };
  const blocks = parsed.segments.filter((s) => s.kind === 'evolve').map((s) => s.text);
  // Models write `\n`; a file with Windows line endings gets its edits in the file's own endings.
  const crlf = source.includes('\r\n');
  for (const [n, given] of edits.entries()) {
    const edit =
      crlf && !given.search.includes('\r')
        ? { search: given.search.replaceAll('\n', '\r\n'), replace: given.replace.replaceAll('\n', '\r\n') }
        : given;
    const label = `edit ${n + 1} of ${edits.length}`;
    if (edit.search === '') return { ok: false, error: `${label}: the SEARCH text is empty` };
    const matchesIn = (find: (text: string, edit: DiffEdit) => Match[]) =>
      blocks.flatMap((text, block) => find(text, edit).map((match) => ({ block, ...match })));
    const exact = matchesIn(exactMatches);
    const hits = exact.length > 0 ? exact : matchesIn(looseMatches);
    if (hits.length > 1) {
      return {
        ok: false,
        error: `${label}: the SEARCH text ${preview(edit.search)} occurs ${hits.length} times in the evolve blocks; include more lines so it matches exactly once`,
      };
    }
    const hit = hits[0];
    if (!hit) {
      const current = rebuild(parsed, blocks);
      const whole = current.ok ? current.program : source;
      const error = whole.includes(edit.search)
        ? `${label}: the SEARCH text ${preview(edit.search)} is in fixed code (outside the EVOLVE-BLOCK markers) or spans a marker; only code between EVOLVE-BLOCK-START and EVOLVE-BLOCK-END may change`
        : `${label}: the SEARCH text ${preview(edit.search)} does not occur in the program; copy it exactly, whitespace included`;
      return { ok: false, error };
    }
    const text = blocks[hit.block]!;
    blocks[hit.block] = text.slice(0, hit.at) + hit.replace + text.slice(hit.end);
  }
  return rebuild(parsed, blocks);
}

/** Replaces the contents of every evolve block, in order; `blocks` must have one entry per block. */
export function applyRewrite(source: string, blocks: readonly string[]): PatchResult {
  const parsed = parseOrError(source);
  if (typeof parsed === 'string') return { ok: false, error: parsed };
  const count = parsed.segments.filter((s) => s.kind === 'evolve').length;
  if (blocks.length !== count) {
    return {
      ok: false,
      error: `the rewrite has ${blocks.length} block${blocks.length === 1 ? '' : 's'} but the program has ${count} evolve block${count === 1 ? '' : 's'}`,
    };
  }
  return rebuild(parsed, [...blocks]);
}

/**
 * The SEARCH/REPLACE blocks of a model's plain-text reply, in order:
 *
 *     <<<<<<< SEARCH
 *     old lines
 *     =======
 *     new lines
 *     >>>>>>> REPLACE
 *
 * The texts are the lines between the marker lines joined with `\n` (no final line ending, so a search also matches a
 * block's last line when it has none). Anything outside the blocks (prose, code fences) is ignored, and so is a block
 * the reply leaves unfinished.
 */
export function parseDiffReply(text: string): DiffEdit[] {
  const edits: DiffEdit[] = [];
  let state: 'outside' | 'search' | 'replace' = 'outside';
  let search: string[] = [];
  let replace: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const marker = line.trim();
    if (/^<{7} ?SEARCH$/.test(marker)) {
      state = 'search';
      search = [];
      replace = [];
    } else if (state === 'search' && /^={7}$/.test(marker)) {
      state = 'replace';
    } else if (state === 'replace' && /^>{7} ?REPLACE$/.test(marker)) {
      edits.push({ search: search.join('\n'), replace: replace.join('\n') });
      state = 'outside';
    } else if (state === 'search') {
      search.push(line);
    } else if (state === 'replace') {
      replace.push(line);
    }
  }
  return edits;
}

/** A unified diff from `a` to `b` (empty hunks when they are equal), headed with the two names. */
export function programDiff(a: string, b: string, nameA: string, nameB: string): string {
  return createTwoFilesPatch(nameA, nameB, a, b, undefined, undefined, { context: 3 });
}
