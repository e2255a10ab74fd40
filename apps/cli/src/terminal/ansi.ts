/**
 * The few ANSI escape sequences the live displays use, written out by hand (no dependency): cursor movement, erasing,
 * and colours that collapse to nothing when colour is off.
 */

export const SHOW_CURSOR = '\x1b[?25h';
export const HIDE_CURSOR = '\x1b[?25l';
/** Erase from the cursor to the end of the screen. */
export const ERASE_DOWN = '\x1b[J';
/** Erase from the cursor to the end of the line. */
export const ERASE_LINE_END = '\x1b[K';

/** Back to the first column, then `rows` rows up. */
export const cursorToLineStartUp = (rows: number): string => (rows > 0 ? `\r\x1b[${rows}A` : '\r');

export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  cyan(text: string): string;
}

const sgr =
  (open: number, close: number) =>
  (text: string): string =>
    text.length === 0 ? text : `\x1b[${open}m${text}\x1b[${close}m`;

const COLORS: Palette = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39),
};

const identity = (text: string): string => text;
const PLAIN: Palette = {
  bold: identity,
  dim: identity,
  red: identity,
  green: identity,
  yellow: identity,
  cyan: identity,
};

export const palette = (color: boolean): Palette => (color ? COLORS : PLAIN);

const SGR = /\x1b\[[0-9;]*m/g;

/** Columns a line takes on screen: colour codes take none; every other code point is taken as one column. */
export function visibleWidth(text: string): number {
  let width = 0;
  for (const _ of text.replace(SGR, '')) width++;
  return width;
}

/**
 * Cut to at most `width` columns, ending in `…` when cut; colour codes are kept whole and closed with a reset, so a cut
 * line never leaves the terminal coloured.
 */
export function truncateToWidth(text: string, width: number): string {
  if (visibleWidth(text) <= width) return text;
  if (width <= 0) return '';
  let out = '';
  let used = 0;
  let styled = false;
  for (let i = 0; i < text.length; ) {
    if (text[i] === '\x1b') {
      const match = /^\x1b\[[0-9;]*m/.exec(text.slice(i));
      if (match) {
        out += match[0];
        styled = true;
        i += match[0].length;
        continue;
      }
    }
    const char = String.fromCodePoint(text.codePointAt(i)!);
    if (used === width - 1) break;
    out += char;
    used++;
    i += char.length;
  }
  return `${out}…${styled ? '\x1b[0m' : ''}`;
}

/** Pads with spaces to `width` visible columns. */
export const padToWidth = (text: string, width: number): string =>
  text + ' '.repeat(Math.max(0, width - visibleWidth(text)));

/** `████░░░░` for a fraction from 0 to 1 (clamped). */
export function bar(fraction: number, width: number): string {
  if (width <= 0) return '';
  const clamped = Number.isFinite(fraction) ? Math.min(1, Math.max(0, fraction)) : 0;
  const filled = Math.round(clamped * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

export const SPINNER_FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'] as const;
export const spinner = (frame: number): string => SPINNER_FRAMES[Math.abs(frame) % SPINNER_FRAMES.length]!;
