import { type BestMetric, otherModels, type RunModels, type RunRecord, type Usage } from '@autolab/contracts';
import { padToWidth, truncateToWidth, visibleWidth } from './terminal/ansi.js';

/** `0.1234`, `12.35`, `1234.5`, `42`: enough digits to compare metrics by eye. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 1000) return value.toFixed(1);
  return String(Number(value.toPrecision(4)));
}

export function formatUsd(value: number): string {
  return `$${value < 1 && value > 0 ? value.toFixed(4) : value.toFixed(2)}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(s).padStart(2, '0')}s`;
}

export interface ClockOptions {
  /** Show times in UTC instead of the local zone (tests, logs). */
  utc?: boolean;
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `HH:MM:SS` of an ISO timestamp. */
export function formatClock(iso: string, options: ClockOptions = {}): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return options.utc
    ? `${pad2(date.getUTCHours())}:${pad2(date.getUTCMinutes())}:${pad2(date.getUTCSeconds())}`
    : `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}`;
}

/** `YYYY-MM-DD HH:MM` of an ISO timestamp. */
export function formatDateTime(iso: string | null, options: ClockOptions = {}): string {
  if (!iso) return '-';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const parts = options.utc
    ? [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate(), date.getUTCHours(), date.getUTCMinutes()]
    : [date.getFullYear(), date.getMonth() + 1, date.getDate(), date.getHours(), date.getMinutes()];
  const [y, mo, d, h, mi] = parts as [number, number, number, number, number];
  return `${y}-${pad2(mo)}-${pad2(d)} ${pad2(h)}:${pad2(mi)}`;
}

export function formatBestMetric(best: BestMetric | null): string {
  return best ? `${best.name}=${formatNumber(best.value)}` : '-';
}

export function formatUsage(usage: Usage): string {
  return `${formatUsd(usage.costUsd)} (${usage.calls} calls, ${usage.totalTokens.toLocaleString('en-US')} tokens${tokenNotes(usage)})`;
}

/**
 * What to know about a run's token figures, to follow them: `, 40% of prompt cached` when the provider's
 * prefix cache served some, `, estimated` (or `, 1,200 estimated`) when a server reported no usage.
 */
export function tokenNotes(usage: Pick<Usage, 'promptTokens' | 'totalTokens' | 'cachedTokens' | 'estimatedTokens'>) {
  const notes: string[] = [];
  if (usage.cachedTokens > 0 && usage.promptTokens > 0) {
    notes.push(`${Math.round((100 * usage.cachedTokens) / usage.promptTokens)}% of prompt cached`);
  }
  if (usage.estimatedTokens > 0) {
    notes.push(
      usage.estimatedTokens >= usage.totalTokens
        ? 'estimated'
        : `${usage.estimatedTokens.toLocaleString('en-US')} estimated`,
    );
  }
  return notes.map((note) => `, ${note}`).join('');
}

/** `demo` when one model does everything; else `demo (judge, review: demo-judge; vision: seer)`. */
export function formatModels(models: RunModels): string {
  const others = otherModels(models);
  if (others.length === 0) return models.code;
  return `${models.code} (${others.map(({ model, roles }) => `${roles.join(', ')}: ${model}`).join('; ')})`;
}

// ANSI escape sequences (CSI, OSC, and two-character escapes), then any other control character but tab.
const ANSI = /\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/**
 * Text from the server (program output above all) made safe for a terminal: escape sequences and control characters
 * removed, so an experiment cannot move the cursor, retitle the window or hide lines.
 */
export function sanitize(text: string): string {
  return text.replace(ANSI, '').replace(CONTROL, '');
}

/** Sanitized, whitespace collapsed onto one line, cut at `max` characters. */
export function oneLine(text: string, max = 160): string {
  const flat = sanitize(text.replace(/\s+/g, ' ')).trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/** The last non-empty line of a block of text (error tails end with the part that matters). */
export function lastLine(text: string, max = 160): string {
  const lines = text.split(/\r?\n|\r/).filter((l) => l.trim().length > 0);
  return oneLine(lines[lines.length - 1] ?? '', max);
}

export interface TableOptions {
  /** A first line naming the columns (padded like the rows); none when left out. */
  header?: string[];
  /** Per column; `right` for numbers, durations and amounts, so their digits line up. Left when not given. */
  align?: readonly ('left' | 'right')[];
  /** Each line is cut to this many terminal columns (ending in `…`): the last column is the one that gives. */
  maxWidth?: number;
}

/**
 * Columns padded to their widest cell, two spaces apart, measured in terminal columns (a CJK character or an emoji
 * takes two, a colour code none), so wide text keeps the columns lined up. The last column is not padded.
 */
export function formatTable(rows: string[][], options: TableOptions = {}): string[] {
  const all = options.header ? [options.header, ...rows] : rows;
  const columns = Math.max(0, ...all.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, i) => Math.max(0, ...all.map((r) => visibleWidth(r[i] ?? ''))));
  const line = (cells: string[]) => {
    const text = cells
      .map((cell, i) => {
        const width = widths[i] ?? 0;
        if (options.align?.[i] === 'right') return ' '.repeat(Math.max(0, width - visibleWidth(cell))) + cell;
        return i === cells.length - 1 ? cell : padToWidth(cell, width);
      })
      .join('  ')
      .trimEnd();
    return options.maxWidth === undefined ? text : truncateToWidth(text, options.maxWidth);
  };
  return all.map(line);
}

/** `run_… succeeded: 6/6 iterations, best acc=0.91 (n005), $1.23 (40 calls, 90,000 tokens)`. */
export function formatRunOutcome(run: RunRecord): string {
  // An evolve run counts the candidates it ran, not iterations of a search.
  const parts = [
    run.mode === 'evolve' ? `${run.iteration} candidates run` : `${run.iteration}/${run.maxIterations} iterations`,
  ];
  if (run.bestMetric) parts.push(`best ${formatBestMetric(run.bestMetric)} (${run.bestMetric.nodeId})`);
  parts.push(formatUsd(run.usage.costUsd));
  if (run.startedAt && run.finishedAt) {
    parts.push(formatDuration(Date.parse(run.finishedAt) - Date.parse(run.startedAt)));
  }
  const error = run.error ? ` (${run.error.code}: ${oneLine(run.error.message)})` : '';
  return `${run.id} ${run.status}${error}: ${parts.join(', ')}`;
}
