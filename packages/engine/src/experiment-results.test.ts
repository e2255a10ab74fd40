import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeSkipped,
  judgeExecution,
  lastErrorLine,
  metricsFromResults,
  type ReportedResults,
  reportedResults,
} from './experiment-results.js';
import { execResult } from './testing/fakes.js';

const exec = execResult;
const limits = { timeoutSeconds: 60, memoryMb: 1024 };
const results = (json: unknown): ReportedResults => ({ source: 'results.json', text: JSON.stringify(json), json });

describe('metricsFromResults', () => {
  it('keeps every finite numeric leaf, nested keys joined with dots', () => {
    expect(
      metricsFromResults({
        loss: 0.25,
        test: { acc: 0.9, per_class: { a: 1, b: 2 } },
        name: 'resnet',
        converged: true,
        curve: [1, 2, 3],
        bad: Number.NaN,
        none: null,
      }),
    ).toEqual({ loss: 0.25, 'test.acc': 0.9, 'test.per_class.a': 1, 'test.per_class.b': 2 });
  });

  it('takes nothing from a value that is not an object of metrics', () => {
    for (const json of [null, 3, 'x', [1, 2], true]) expect(metricsFromResults(json)).toEqual({});
  });

  it('drops keys that cannot be a LaTeX macro name and leaves deeper than four levels', () => {
    expect(metricsFromResults({ 'a b': 1, 'a\\b': 2, 'ok-1.x_y': 3 })).toEqual({ 'ok-1.x_y': 3 });
    expect(metricsFromResults({ a: { b: { c: { d: 4, e: { f: 5 } } } } })).toEqual({ 'a.b.c.d': 4 });
  });

  it('keeps at most 64 metrics', () => {
    const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`m${i}`, i]));
    expect(Object.keys(metricsFromResults(many))).toHaveLength(64);
  });

  it('whatever JSON it is given, returns at most 64 finite numbers under safe names', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (json) => {
        const metrics = Object.entries(metricsFromResults(json));
        expect(metrics.length).toBeLessThanOrEqual(64);
        for (const [name, value] of metrics) {
          expect(name).toMatch(/^[A-Za-z0-9_.-]{1,80}$/);
          expect(Number.isFinite(value)).toBe(true);
        }
      }),
    );
  });
});

describe('reportedResults', () => {
  it('reads results.json, says when it is not JSON, and is null when nothing was reported', () => {
    const file = (path: string, content: string) => ({ path, content: Buffer.from(content) });
    expect(reportedResults([file('results.json', '{"m": 1}')])).toMatchObject({
      source: 'results.json',
      json: { m: 1 },
    });
    expect(reportedResults([file('results.json', '{')])?.error).toMatch(/^results\.json is not valid JSON/);
    expect(reportedResults([file('other.txt', 'x')])).toBeNull();
  });
});

describe('judgeExecution', () => {
  it('accepts a program that exited 0 and reported the metric', () => {
    expect(judgeExecution(exec({}), results({ m: 0.5, n: 2 }), 'm', limits)).toEqual({
      buggy: false,
      error: null,
      metrics: { m: 0.5, n: 2 },
      primary: 0.5,
    });
  });

  it('fails a program that crashed with its last exception line, one that wrote nothing, and a missing metric', () => {
    const stderr = { text: 'Traceback\n  File "x"\nValueError: bad shape\n', totalBytes: 40, droppedBytes: 0 };
    expect(judgeExecution(exec({ exitCode: 1, stderr }), results({ m: 1 }), 'm', limits).error).toBe(
      'exited with code 1: ValueError: bad shape',
    );
    expect(judgeExecution(exec({}), null, 'm', limits).error).toBe('exited normally but wrote no results.json');
    const missing = judgeExecution(exec({}), results({ acc: 1, loss: 'x' }), 'm', limits);
    expect(missing).toMatchObject({ buggy: true, primary: null, metrics: { acc: 1 } });
    expect(missing.error).toBe('results.json has no finite number "m" (numeric keys found: acc)');
  });

  it('never trusts results.json of a program that did not exit 0 in time', () => {
    fc.assert(
      fc.property(
        fc.option(fc.integer({ min: -1, max: 255 }), { nil: null }),
        fc.boolean(),
        fc.boolean(),
        (exitCode, timedOut, outOfMemory) => {
          const judged = judgeExecution(exec({ exitCode, timedOut, outOfMemory }), results({ m: 1 }), 'm', limits);
          expect(judged.buggy).toBe(exitCode !== 0 || timedOut);
          if (judged.buggy) expect(judged.primary).toBeNull();
        },
      ),
    );
  });
});

describe('lastErrorLine', () => {
  it("prefers Python's final exception line, else the last line, and clips long lines", () => {
    expect(lastErrorLine("warn\nKeyError: 'x'\nsome cleanup\n")).toBe("KeyError: 'x'");
    expect(lastErrorLine('first\nlast  \n\n')).toBe('last');
    expect(lastErrorLine('')).toBe('(no error output)');
    expect(lastErrorLine('x'.repeat(400))).toHaveLength(300);
  });
});

describe('judgeExecution reasons', () => {
  it('says when a program stopped at the time limit was at its memory limit', () => {
    const judged = judgeExecution(
      exec({ exitCode: 137, timedOut: true, memoryAtStop: { usedMb: 1013, limitMb: 1024 } }),
      null,
      'm',
      limits,
    );
    expect(judged.error).toMatch(/^timed out after 60 s and was killed, while at 99% of its 1024 MB memory limit/);
    const idle = judgeExecution(
      exec({ timedOut: true, memoryAtStop: { usedMb: 10, limitMb: 1024 } }),
      null,
      'm',
      limits,
    );
    expect(idle.error).toBe('timed out after 60 s and was killed');
  });

  it('names the out-of-memory killer, a lost sandbox and a failed copy', () => {
    expect(judgeExecution(exec({ exitCode: 137, outOfMemory: true }), null, 'm', limits).error).toBe(
      'killed by the out-of-memory killer at its 1024 MB memory limit',
    );
    expect(
      judgeExecution(
        exec({ exitCode: null, sandboxLost: 'the sandbox container stopped with exit code 2' }),
        null,
        'm',
        limits,
      ).error,
    ).toBe('the sandbox ended while the program ran: the sandbox container stopped with exit code 2');
    expect(judgeExecution(exec({}), null, 'm', limits, 'copying files out of the sandbox failed: x').error).toBe(
      'copying files out of the sandbox failed: x',
    );
  });

  it('lists skipped outputs in one line', () => {
    expect(
      describeSkipped([
        { path: 'big.bin', bytes: 512 * 1024 * 1024, reason: 'file_too_large' },
        { path: 'l', bytes: 0, reason: 'not_a_regular_file' },
      ]),
    ).toBe(
      '2 file(s) (512.0 MB) not copied out of the sandbox: big.bin (512.0 MB, over the per-file limit), l (0.0 MB, not a regular file)',
    );
    expect(describeSkipped([])).toBeNull();
  });
});

describe('describeSkipped', () => {
  it('lists the first files and counts the rest', () => {
    const skipped = Array.from({ length: 7 }, (_, i) => ({
      path: `f${i}`,
      bytes: 1024 * 1024,
      reason: 'too_many_files' as const,
    }));
    expect(describeSkipped(skipped, 2)).toBe(
      '7 file(s) (7.0 MB) not copied out of the sandbox: f0 (1.0 MB, over the file-count limit), f1 (1.0 MB, over the file-count limit), and 5 more',
    );
  });
});
