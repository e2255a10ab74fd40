import { cursorToLineStartUp, ERASE_DOWN, HIDE_CURSOR, SHOW_CURSOR, truncateToWidth, visibleWidth } from './ansi.js';

export interface LiveScreenOptions {
  write(text: string): void;
  /** Terminal width now. */
  columns(): number;
  /** The block for a width and a moment: called on every frame. */
  render(width: number, now: number): string[];
  /** Least time between two frames. */
  frameIntervalMs: number;
  /** A frame at least this often, news or not (clocks in the block keep moving). */
  tickMs: number;
  now(): number;
}

/**
 * Lines scroll up the terminal as they come (they stay in its scrollback, cut to the terminal's width so none wraps)
 * while a block of status lines stays pinned
 * below them, redrawn in place at most once per `frameIntervalMs`: a frame moves the cursor back to the top of the
 * block, erases to the end of the screen, writes the lines that arrived since, then the block again.
 */
export class LiveScreen {
  private pending: string[] = [];
  /** Visible widths of the block lines on screen, to know how many rows to go back up. */
  private drawn: number[] = [];
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  private state: 'new' | 'open' | 'closed' = 'new';

  constructor(private readonly options: LiveScreenOptions) {}

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'open';
    this.options.write(HIDE_CURSOR);
    this.draw();
    this.ticker = setInterval(() => this.invalidate(), this.options.tickMs);
    this.ticker.unref?.();
  }

  /** Lines to print above the block (each without its `\n`). */
  log(lines: readonly string[]): void {
    if (lines.length === 0) return;
    if (this.state === 'closed') {
      for (const line of lines) this.options.write(`${line}\n`);
      return;
    }
    this.pending.push(...lines);
    this.invalidate();
  }

  /** Something in the block changed: draw now, or as soon as the frame interval allows. */
  invalidate(): void {
    if (this.state !== 'open' || this.timer) return;
    const wait = this.lastFrameAt + this.options.frameIntervalMs - this.options.now();
    if (wait <= 0) {
      this.draw();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.draw();
    }, wait);
    this.timer.unref?.();
  }

  /** Draws the last frame, leaves it on screen with the cursor below it, and shows the cursor again. */
  close(): void {
    if (this.state === 'closed') return;
    const wasOpen = this.state === 'open';
    this.stopTimers();
    if (wasOpen) this.draw();
    this.state = 'closed';
    if (wasOpen) this.options.write(`\n${SHOW_CURSOR}`);
  }

  private draw(): void {
    const width = Math.max(1, this.options.columns());
    const block = this.options.render(width, this.options.now());
    // Cut to one column less than the width: a line that fills the last column leaves some terminals' cursor on the
    // next row, which would throw off the count of rows to go back up.
    const lines = this.pending.map((line) => truncateToWidth(line, width - 1));
    this.options.write(composeFrame(rowsOnScreen(this.drawn, width), lines, block));
    this.pending = [];
    this.drawn = block.map(visibleWidth);
    this.lastFrameAt = this.options.now();
  }

  private stopTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.ticker) clearInterval(this.ticker);
    this.timer = null;
    this.ticker = null;
  }
}

/**
 * Rows that lines of these visible widths take in a terminal `columns` wide (a terminal that got narrower has wrapped
 * them).
 */
export function rowsOnScreen(widths: readonly number[], columns: number): number {
  return widths.reduce((rows, width) => rows + Math.max(1, Math.ceil(width / Math.max(1, columns))), 0);
}

/**
 * One frame: erase the block drawn before (`previousRows` rows ending at the cursor), print the new lines, draw the
 * block, and leave the cursor at the end of its last line.
 */
export function composeFrame(previousRows: number, lines: readonly string[], block: readonly string[]): string {
  let frame = previousRows > 0 ? `${cursorToLineStartUp(previousRows - 1)}${ERASE_DOWN}` : '';
  for (const line of lines) frame += `${line}\n`;
  return frame + block.join('\n');
}
