/**
 * AI-Scientist's result convention, read like results.json so that programs written for its templates work unchanged.
 * An AI-Scientist experiment writes `run_<n>/final_info.json`:
 * `{"<dataset>": {"means": {"<metric>": value, …}, "stderrs": {…}}, …}`.
 *
 * How that maps to metric names (docs/inputs.md says the same):
 * - every dataset's means are kept under `<dataset>.<metric>`;
 * - `<metric>` alone is the mean of that metric over the datasets that report it (with one dataset, its value), so an
 *   idea whose metric is `final_val_loss` finds it whatever the datasets are called;
 * - a dataset entry without `means` is read as the means themselves;
 * - with several `run_<n>` directories, each one's metrics are also kept under `run_<n>.`, and the unprefixed names
 *   come from the highest-numbered run (AI-Scientist's run_0 is the baseline; later runs are the changes it made).
 */

const RUN_FILE = /^run_(\d{1,6})\/final_info\.json$/;

/** `run_3/final_info.json` → 3; null for any other path. */
export function finalInfoRun(path: string): number | null {
  const match = RUN_FILE.exec(path);
  return match ? Number(match[1]) : null;
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** One final_info.json as results.json's shape: `{<dataset>: {<metric>: v}, <metric>: mean over datasets}`. */
export function resultsFromFinalInfo(finalInfo: unknown): Json {
  if (!isObject(finalInfo)) return {};
  const perDataset: Json = {};
  const sums = new Map<string, { total: number; count: number }>();
  for (const [dataset, entry] of Object.entries(finalInfo)) {
    if (!isObject(entry)) continue;
    const means = isObject(entry.means) ? entry.means : entry;
    const numbers = Object.fromEntries(Object.entries(means).filter(([, v]) => isNumber(v))) as Record<string, number>;
    if (Object.keys(numbers).length === 0) continue;
    perDataset[dataset] = numbers;
    for (const [metric, value] of Object.entries(numbers)) {
      const sum = sums.get(metric) ?? { total: 0, count: 0 };
      sums.set(metric, { total: sum.total + value, count: sum.count + 1 });
    }
  }
  const averaged = Object.fromEntries([...sums].map(([metric, { total, count }]) => [metric, total / count]));
  // The averages first (only so many metrics are kept, and these are the names ideas use); they win a plain name
  // that a dataset shares.
  return withoutOverriding(averaged, perDataset);
}

/**
 * Several runs' final_info.json (by run number, already parsed) as one results.json-shaped object; see the module
 * comment for the names.
 */
export function resultsFromFinalInfos(runs: Map<number, unknown>): Json {
  const numbers = [...runs.keys()].sort((a, b) => a - b);
  if (numbers.length === 0) return {};
  const latest = resultsFromFinalInfo(runs.get(numbers.at(-1)!));
  if (numbers.length === 1) return latest;
  const prefixed = Object.fromEntries(numbers.map((n) => [`run_${n}`, resultsFromFinalInfo(runs.get(n))]));
  return withoutOverriding(latest, prefixed);
}

/** `first`'s keys, then those of `then` that `first` does not have (in that order: the order metrics are kept in). */
function withoutOverriding(first: Json, then: Json): Json {
  const out: Json = { ...first };
  for (const [key, value] of Object.entries(then)) if (!(key in out)) out[key] = value;
  return out;
}
