import type { ExecResult, SkippedFile } from './ports.js';

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

export interface JudgedExecution {
  buggy: boolean;
  error: string | null;
  metrics: Record<string, number>;
  primary: number | null;
}

/**
 * Decides from what really happened, not from the model's prose, whether an experiment worked:
 * it must exit 0 in time and write results.json with the plan's metric as a finite number. `sandboxError` says why
 * the sandbox could not take the program in or give its files back, when that failed.
 */
export function judgeExecution(
  exec: ExecResult,
  resultsJson: Buffer | null,
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
  if (!resultsJson) return failed('exited normally but wrote no results.json');
  let parsed: unknown;
  try {
    parsed = JSON.parse(resultsJson.toString('utf8'));
  } catch (err) {
    return failed(`results.json is not valid JSON: ${(err as Error).message}`);
  }
  const metrics = metricsFromResults(parsed);
  const primary = metrics[metricName];
  if (primary === undefined) {
    const keys = Object.keys(metrics).slice(0, 12).join(', ') || 'none';
    return failed(`results.json has no finite number "${metricName}" (numeric keys found: ${keys})`, metrics);
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
