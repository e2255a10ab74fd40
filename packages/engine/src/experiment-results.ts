import type { ExecResult } from './ports.js';

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
 * it must exit 0 in time and write results.json with the plan's metric as a finite number.
 */
export function judgeExecution(
  exec: ExecResult,
  resultsJson: Buffer | null,
  metricName: string,
  limits: { timeoutSeconds: number; memoryMb: number },
): JudgedExecution {
  const failed = (error: string, metrics: Record<string, number> = {}): JudgedExecution => ({
    buggy: true,
    error,
    metrics,
    primary: null,
  });
  if (exec.timedOut) return failed(`timed out after ${limits.timeoutSeconds} s and was killed`);
  if (exec.outOfMemory) {
    return failed(`killed by SIGKILL (exit 137), most likely for exceeding the memory limit of ${limits.memoryMb} MB`);
  }
  if (exec.exitCode !== 0) {
    return failed(`exited with code ${exec.exitCode ?? 'unknown'}: ${lastErrorLine(exec.stderr.text)}`);
  }
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
