import { normalizeRelativePath } from '@autolab/contracts';
import type { ReadFilesLimits, SkippedFile } from '@autolab/engine';

/** One record of the listing made inside the sandbox (the collect script): `find -printf '%y %s %P\0'`. */
export interface ListedEntry {
  /** find's `%y`: `f` regular file, `d` directory, `l` symbolic link, `p`, `s`, `c`, `b`, … */
  type: string;
  bytes: number;
  path: string;
}

export function parseListing(raw: Buffer): ListedEntry[] {
  const entries: ListedEntry[] = [];
  for (const record of raw.toString('utf8').split('\0')) {
    const match = /^(\S) (\d+) (.+)$/s.exec(record);
    if (match) entries.push({ type: match[1]!, bytes: Number(match[2]), path: match[3]! });
  }
  return entries;
}

/**
 * Copied out first, whatever else the program left: the engine reads its metrics from them (results.json, or
 * AI-Scientist's run_<n>/final_info.json; see packages/engine/src/final-info.ts).
 */
const FIRST = /^(results\.json|run_\d{1,6}\/final_info\.json)$/;

/**
 * Which files leave the sandbox: regular files with clean relative paths, the results files first and then the smallest
 * first (many small outputs, such as figures, are worth more than one huge file; equal sizes by name), until a limit is
 * reached. The rest
 * is skipped before anything is copied, so a program that fills its workspace costs the worker nothing.
 */
export function selectOutputs(
  entries: ListedEntry[],
  limits: ReadFilesLimits,
): { include: string[]; skipped: SkippedFile[] } {
  const skipped: SkippedFile[] = [];
  const candidates: ListedEntry[] = [];
  for (const entry of entries) {
    if (entry.type === 'd') continue;
    if (entry.type !== 'f') {
      skipped.push({ path: entry.path, bytes: entry.bytes, reason: 'not_a_regular_file' });
    } else if (normalizeRelativePath(entry.path) !== entry.path) {
      skipped.push({ path: entry.path, bytes: entry.bytes, reason: 'unusable_name' });
    } else if (entry.bytes > limits.maxFileBytes) {
      skipped.push({ path: entry.path, bytes: entry.bytes, reason: 'file_too_large' });
    } else {
      candidates.push(entry);
    }
  }
  candidates.sort(
    (a, b) =>
      Number(FIRST.test(b.path)) - Number(FIRST.test(a.path)) || a.bytes - b.bytes || (a.path < b.path ? -1 : 1),
  );
  const include: string[] = [];
  let total = 0;
  for (const entry of candidates) {
    if (total + entry.bytes > limits.maxTotalBytes) {
      skipped.push({ path: entry.path, bytes: entry.bytes, reason: 'total_too_large' });
    } else if (include.length >= limits.maxFiles) {
      skipped.push({ path: entry.path, bytes: entry.bytes, reason: 'too_many_files' });
    } else {
      include.push(entry.path);
      total += entry.bytes;
    }
  }
  return { include, skipped };
}
