import { finalInfoRun, resultsFromFinalInfos } from './final-info.js';
import type { ExecResult, SandboxFile, SkippedFile } from './ports.js';

/** At most this many metrics are kept from one results.json. */
const MAX_METRICS = 64;
/** Metric names end up in LaTeX macros and table headers: only these characters are accepted. */
const METRIC_NAME = /^[A-Za-z0-9_.-]{1,80}$/;

/**
 * The numbers an experiment reported: every finite numeric leaf of results.json, nested keys joined with dots
 * (`{"test": {"acc": 0.9}}` → `test.acc`). Booleans and strings are not metrics, nor are keys with characters
 * outside letters, digits, `_`, `.` and `-`.
 */
export function metricsFromResults(json: unknown): Record<string, number> {
  const metrics: Record<string, number> = {};
  const walk = (value: unknown, prefix: string, depth: number) => {
    if (Object.keys(metrics).length >= MAX_METRICS || depth > 4) return;
    if (typeof value === 'number' && Number.isFinite(value) && METRIC_NAME.test(prefix)) metrics[prefix] = value;
    else if (value && typeof value === 'object' && !Array.isArray(value)) {
      for (const [key, child] of Object.entries(value)) walk(child, prefix ? `${prefix}.${key}` : key, depth + 1);
    }
  };
  walk(json, '', 0);
  return metrics;
}

/**
 * The results a program reported, from the files it left: its results.json, or, when it wrote none, AI-Scientist's
 * `run_<n>/final_info.json` read as results.json (see final-info.ts). `text` is what is kept as the node's
 * results.json and shown to the judge: the file itself, or the results derived from the final_info files. Null when
 * the program reported nothing.
 */
export type ReportedResults =
  | { source: string; text: string; json: unknown; error?: undefined }
  | { source: string; text: string; error: string };

export function reportedResults(files: SandboxFile[]): ReportedResults | null {
  const parse = (file: SandboxFile): { json: unknown } | { error: string } => {
    try {
      return { json: JSON.parse(file.content.toString('utf8')) };
    } catch (err) {
      return { error: `${file.path} is not valid JSON: ${(err as Error).message}` };
    }
  };
  const results = files.find((f) => f.path === 'results.json');
  if (results) return { source: results.path, text: results.content.toString('utf8'), ...parse(results) };
  const finalInfos = files.filter((f) => finalInfoRun(f.path) !== null);
  if (finalInfos.length === 0) return null;
  const source = finalInfos.map((f) => f.path).join(', ');
  const runs = new Map<number, unknown>();
  for (const file of finalInfos) {
    const parsed = parse(file);
    if ('error' in parsed) return { source, text: file.content.toString('utf8'), error: parsed.error };
    runs.set(finalInfoRun(file.path)!, parsed.json);
  }
  const json = resultsFromFinalInfos(runs);
  return { source, text: `${JSON.stringify(json, null, 2)}\n`, json };
}

/** The metrics of what a program reported (none when it reported nothing usable). */
export const reportedMetrics = (reported: ReportedResults | null): Record<string, number> =>
  reported && reported.error === undefined ? metricsFromResults(reported.json) : {};

export interface JudgedExecution {
  buggy: boolean;
  error: string | null;
  metrics: Record<string, number>;
  primary: number | null;
}

/**
 * Decides from what really happened, not from the model's prose, whether an experiment worked:
 * it must exit 0 in time and report the plan's metric as a finite number (in results.json, or in AI-Scientist's
 * final_info.json). `sandboxError` says why
 * the sandbox could not take the program in or give its files back, when that failed.
 */
export function judgeExecution(
  exec: ExecResult,
  reported: ReportedResults | null,
  metricName: string,
  limits: { timeoutSeconds: number; memoryMb: number },
  sandboxError: string | null = null,
): JudgedExecution {
  const failed = (error: string, metrics: Record<string, number> = {}): JudgedExecution => ({
    buggy: true,
    error,
    metrics,
    primary: null,
  });
  const memoryMb = exec.memoryAtStop?.limitMb ?? limits.memoryMb;
  if (exec.sandboxLost) return failed(`the sandbox ended while the program ran: ${exec.sandboxLost}`);
  if (exec.timedOut) return failed(`timed out after ${limits.timeoutSeconds} s and was killed${memoryNote(exec)}`);
  if (exec.outOfMemory && (exec.exitCode === 137 || exec.exitCode === null)) {
    return failed(`killed by the out-of-memory killer at its ${memoryMb} MB memory limit`);
  }
  if (exec.exitCode !== 0) {
    const oom = exec.outOfMemory
      ? `; the out-of-memory killer ended one of its processes at the ${memoryMb} MB memory limit`
      : '';
    return failed(`exited with code ${exec.exitCode ?? 'unknown'}: ${lastErrorLine(exec.stderr.text)}${oom}`);
  }
  if (sandboxError) return failed(sandboxError);
  if (!reported) return failed('exited normally but wrote no results.json');
  if (reported.error !== undefined) return failed(reported.error);
  const metrics = reportedMetrics(reported);
  const primary = metrics[metricName];
  if (primary === undefined) {
    const keys = Object.keys(metrics).slice(0, 12).join(', ') || 'none';
    return failed(`${reported.source} has no finite number "${metricName}" (numeric keys found: ${keys})`, metrics);
  }
  return { buggy: false, error: null, metrics, primary };
}

/** Share of the memory limit from which a program stopped at its time limit is said to have been short of memory. */
const NEAR_MEMORY_LIMIT = 0.8;

/** `, while at 97% of its 1024 MB memory limit (…)` for a program that was stopped close to its memory limit. */
function memoryNote(exec: ExecResult): string {
  const memory = exec.memoryAtStop;
  if (!memory || memory.limitMb <= 0 || memory.usedMb < NEAR_MEMORY_LIMIT * memory.limitMb) return '';
  const percent = Math.min(100, Math.round((100 * memory.usedMb) / memory.limitMb));
  return (
    `, while at ${percent}% of its ${memory.limitMb} MB memory limit ` +
    '(a program this close to its memory limit spends its time reclaiming memory: use less of it)'
  );
}

const SKIP_REASONS: Record<SkippedFile['reason'], string> = {
  not_a_regular_file: 'not a regular file',
  unusable_name: 'a name that cannot be stored (control characters or climbing out)',
  file_too_large: 'over the per-file limit',
  total_too_large: 'over the total limit',
  too_many_files: 'over the file-count limit',
};

/**
 * One line for events and prompts about the files a program left that were not copied out of the sandbox:
 * `2 file(s) (512.0 MB) not copied out of the sandbox: big.bin (512.0 MB, over the per-file limit), …`. Null when
 * nothing was skipped.
 */
export function describeSkipped(skipped: SkippedFile[], shown = 5): string | null {
  if (skipped.length === 0) return null;
  const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  const total = skipped.reduce((sum, s) => sum + s.bytes, 0);
  const listed = skipped
    .slice(0, shown)
    .map((s) => `${s.path} (${mb(s.bytes)}, ${SKIP_REASONS[s.reason]})`)
    .join(', ');
  const more = skipped.length > shown ? `, and ${skipped.length - shown} more` : '';
  return `${skipped.length} file(s) (${mb(total)}) not copied out of the sandbox: ${listed}${more}`;
}

/** The line of stderr that says what went wrong: Python's final exception line, else the last non-empty line. */
export function lastErrorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const exception = [...lines].reverse().find((l) => /^[A-Za-z_.]*(Error|Exception|Interrupt)\b/.test(l));
  const line = exception ?? lines.at(-1) ?? '(no error output)';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
