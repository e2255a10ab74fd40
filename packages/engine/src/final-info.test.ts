import { describe, expect, it } from 'vitest';
import { judgeExecution, reportedMetrics, reportedResults } from './experiment-results.js';
import { finalInfoRun, resultsFromFinalInfo, resultsFromFinalInfos } from './final-info.js';
import { execResult } from './testing/fakes.js';

const file = (path: string, content: unknown) => ({
  path,
  content: Buffer.from(typeof content === 'string' ? content : JSON.stringify(content)),
});
/** The shape AI-Scientist's templates write (e.g. nanoGPT: one entry per dataset, means and stderrs). */
const finalInfo = (datasets: Record<string, Record<string, number>>) =>
  Object.fromEntries(
    Object.entries(datasets).map(([name, means]) => [
      name,
      { means, stderrs: Object.fromEntries(Object.keys(means).map((k) => [`${k}_stderr`, 0.01])) },
    ]),
  );

describe('final_info.json as results', () => {
  it('keeps each dataset under <dataset>.<metric> and averages a metric over the datasets', () => {
    const results = resultsFromFinalInfo(
      finalInfo({
        shakespeare_char: { final_val_loss: 1.5, final_train_loss: 1.2 },
        enwik8: { final_val_loss: 1.0 },
      }),
    );
    expect(results).toEqual({
      final_val_loss: 1.25,
      final_train_loss: 1.2,
      shakespeare_char: { final_val_loss: 1.5, final_train_loss: 1.2 },
      enwik8: { final_val_loss: 1.0 },
    });
  });

  it('reads a dataset entry without "means" as the means, ignoring what is not a number', () => {
    expect(resultsFromFinalInfo({ x: { acc: 0.9, note: 'text', nested: { a: 1 }, bad: null } })).toEqual({
      acc: 0.9,
      x: { acc: 0.9 },
    });
    expect(resultsFromFinalInfo([1, 2])).toEqual({});
    expect(resultsFromFinalInfo({ x: 3 })).toEqual({});
  });

  it('lets the average win a plain name that a dataset also has', () => {
    expect(resultsFromFinalInfo({ acc: { means: { acc: 0.5 } }, b: { means: { acc: 0.7 } } })).toMatchObject({
      acc: 0.6,
      b: { acc: 0.7 },
    });
  });

  it('prefixes each run with several run_ directories, and takes the plain names from the latest run', () => {
    const runs = new Map<number, unknown>([
      [10, finalInfo({ d: { acc: 0.9 } })],
      [0, finalInfo({ d: { acc: 0.5 } })],
      [2, finalInfo({ d: { acc: 0.7 } })],
    ]);
    expect(resultsFromFinalInfos(runs)).toEqual({
      acc: 0.9,
      d: { acc: 0.9 },
      run_0: { acc: 0.5, d: { acc: 0.5 } },
      run_2: { acc: 0.7, d: { acc: 0.7 } },
      run_10: { acc: 0.9, d: { acc: 0.9 } },
    });
    expect(resultsFromFinalInfos(new Map())).toEqual({});
  });

  it('only knows run_<n>/final_info.json at the top of the working directory', () => {
    expect(finalInfoRun('run_0/final_info.json')).toBe(0);
    expect(finalInfoRun('run_12/final_info.json')).toBe(12);
    for (const path of ['final_info.json', 'x/run_0/final_info.json', 'run_a/final_info.json', 'run_0/info.json'])
      expect(finalInfoRun(path)).toBeNull();
  });
});

describe('reportedResults', () => {
  it('prefers results.json when both are there', () => {
    const reported = reportedResults([
      file('run_0/final_info.json', finalInfo({ d: { acc: 0.1 } })),
      file('results.json', { acc: 0.9 }),
    ]);
    expect(reported?.source).toBe('results.json');
    expect(reportedMetrics(reported)).toEqual({ acc: 0.9 });
  });

  it('reads final_info.json when there is no results.json, keeping the derived results as text', () => {
    const reported = reportedResults([
      file('run_0/final_info.json', finalInfo({ a: { acc: 0.8 }, b: { acc: 0.6 } })),
      file('run_0/all_results.npy', 'binary'),
    ]);
    expect(reported?.source).toBe('run_0/final_info.json');
    expect(reportedMetrics(reported)).toEqual({ acc: 0.7, 'a.acc': 0.8, 'b.acc': 0.6 });
    expect(JSON.parse(reported!.text)).toEqual({ acc: 0.7, a: { acc: 0.8 }, b: { acc: 0.6 } });
    expect(reportedResults([file('notes.txt', 'x')])).toBeNull();
  });

  it('names the file that is not JSON', () => {
    const reported = reportedResults([
      file('run_0/final_info.json', finalInfo({ d: { acc: 1 } })),
      file('run_1/final_info.json', '{'),
    ]);
    expect(reported?.error).toMatch(/^run_1\/final_info\.json is not valid JSON/);
    expect(reportedMetrics(reported)).toEqual({});
  });
});

describe('judgeExecution of final_info.json', () => {
  const ok = execResult();
  const limits = { timeoutSeconds: 60, memoryMb: 1024 };

  it('finds the idea metric averaged over the datasets, or says which file lacked it', () => {
    const reported = reportedResults([file('run_0/final_info.json', finalInfo({ a: { loss: 2 }, b: { loss: 1 } }))]);
    expect(judgeExecution(ok, reported, 'loss', limits)).toMatchObject({ buggy: false, primary: 1.5 });
    expect(judgeExecution(ok, reported, 'a.loss', limits)).toMatchObject({ buggy: false, primary: 2 });
    expect(judgeExecution(ok, reported, 'acc', limits).error).toBe(
      'run_0/final_info.json has no finite number "acc" (numeric keys found: loss, a.loss, b.loss)',
    );
  });
});
