import { formatBytes } from '../human-format.js';
import { bar, ERASE_LINE_END, palette, spinner, truncateToWidth } from './ansi.js';

export interface ProgressSnapshot {
  label: string;
  bytes: number;
  /** From `Content-Length`; `null` when the server streams without announcing a size. */
  total: number | null;
  elapsedMs: number;
}

const MAX_BAR_WIDTH = 30;

/**
 * One line of download progress, shorter than `width`: with a known size a bar, bytes of total, percent and rate;
 * without one a spinner, the bytes so far and the rate. Pure.
 */
export function renderProgress(snapshot: ProgressSnapshot, width: number, color: boolean): string {
  const p = palette(color);
  const { label, bytes, total, elapsedMs } = snapshot;
  const rate = elapsedMs >= 500 ? `  ${formatBytes(Math.round((bytes * 1000) / elapsedMs))}/s` : '';
  let line: string;
  if (total !== null && total > 0) {
    const fraction = Math.min(1, bytes / total);
    const numbers = `${formatBytes(bytes)} / ${formatBytes(total)}  ${String(Math.floor(fraction * 100)).padStart(3)}%${rate}`;
    const room = width - 1 - label.length - numbers.length - 4;
    const barWidth = Math.min(MAX_BAR_WIDTH, room);
    line = barWidth >= 5 ? `${label}  ${p.cyan(bar(fraction, barWidth))}  ${numbers}` : `${label}  ${numbers}`;
  } else {
    const frame = spinner(Math.floor(elapsedMs / 100));
    line = `${p.cyan(frame)} ${label}  ${formatBytes(bytes)}${rate}`;
  }
  return truncateToWidth(line, width - 1);
}

export interface ProgressLineOptions {
  write(text: string): void;
  columns(): number;
  color: boolean;
  frameIntervalMs: number;
  now(): number;
}

/** A progress line redrawn in place (carriage return) on a terminal, at most once per frame interval. */
export class ProgressLine {
  private label = '';
  private total: number | null = null;
  private startedAt = 0;
  private lastFrameAt = Number.NEGATIVE_INFINITY;
  private shown = false;

  constructor(private readonly options: ProgressLineOptions) {}

  start(label: string, total: number | null): void {
    this.label = label;
    this.total = total;
    this.startedAt = this.options.now();
    this.lastFrameAt = Number.NEGATIVE_INFINITY;
    this.update(0);
  }

  update(bytes: number): void {
    const now = this.options.now();
    const complete = this.total !== null && bytes >= this.total;
    if (!complete && now - this.lastFrameAt < this.options.frameIntervalMs) return;
    this.lastFrameAt = now;
    const snapshot = { label: this.label, bytes, total: this.total, elapsedMs: now - this.startedAt };
    this.options.write(`\r${renderProgress(snapshot, this.options.columns(), this.options.color)}${ERASE_LINE_END}`);
    this.shown = true;
  }

  /** Clears the line, so what is printed next starts in the first column of an empty line. */
  clear(): void {
    if (this.shown) this.options.write(`\r${ERASE_LINE_END}`);
    this.shown = false;
  }
}
