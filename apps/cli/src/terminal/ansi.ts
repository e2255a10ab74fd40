import ansiEscapes from 'ansi-escapes';
import cliTruncate from 'cli-truncate';
import stringWidth from 'string-width';

/**
 * What the live displays write to a terminal: cursor movement and erasing (ansi-escapes), display widths that know
 * wide and zero-width characters (string-width), cutting to a width that keeps colour codes whole (cli-truncate), and
 * colours that collapse to nothing when colour is off.
 */

export const SHOW_CURSOR = ansiEscapes.cursorShow;
export const HIDE_CURSOR = ansiEscapes.cursorHide;
/** Erase from the cursor to the end of the screen. */
export const ERASE_DOWN = ansiEscapes.eraseDown;
/** Erase from the cursor to the end of the line. */
export const ERASE_LINE_END = ansiEscapes.eraseEndLine;

/** Back to the first column, then `rows` rows up. */
export const cursorToLineStartUp = (rows: number): string => (rows > 0 ? `\r${ansiEscapes.cursorUp(rows)}` : '\r');

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

/** Columns a line takes on screen: colour codes take none, East Asian wide characters and most emoji take two. */
export const visibleWidth = (text: string): number => stringWidth(text);

/** Cut to at most `width` columns, ending in `…` when cut; colour codes stay whole and are closed. */
export function truncateToWidth(text: string, width: number): string {
  if (width <= 0) return '';
  // cli-truncate 5 keeps a wide character whose second column falls past the cut (one column too many): cut shorter.
  let cut = cliTruncate(text, width, { position: 'end' });
  for (let shorter = width - 1; shorter > 0 && visibleWidth(cut) > width; shorter--) {
    cut = cliTruncate(text, shorter, { position: 'end' });
  }
  return cut;
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
