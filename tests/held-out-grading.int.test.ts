import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_GRADER, type Sandbox, USER_GRADER_WRAPPER } from '@autolab/engine';
import { DockerClient, DockerSandboxFactory } from '@autolab/sandbox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The held-out grading step against a real Docker engine: the hidden files are in the grading sandbox and in no
 * experiment sandbox; the built-in metrics equal what this test computes itself; predictions that cannot be graded
 * get a reason that names no hidden value; the user's grader runs with its output kept back.
 */
const CANARY = `CANARY-${randomBytes(8).toString('hex')}`;
const runId = `run_grading${randomBytes(4).toString('hex')}`;
let dir: string;
let factory: DockerSandboxFactory;
let grader: Sandbox;

// Binary labels for 8 ids, and a regression target.
const labels = [1, 0, 1, 1, 0, 0, 1, 0];
const probabilities = [0.9, 0.2, 0.6, 0.4, 0.3, 0.1, 0.8, 0.7];
const predicted = probabilities.map((p) => (p >= 0.5 ? 1 : 0));

async function grade(metric: string, predictions: string): Promise<{ value?: number; error?: string }> {
  await grader.reset();
  await grader.writeFiles([{ path: 'predictions.csv', content: Buffer.from(predictions) }]);
  const result = await grader.exec(
    ['python3', '-c', BUILTIN_GRADER, metric, 'predictions.csv', '/workspace/input/hidden'],
    { timeoutMs: 60_000 },
  );
  expect(result.exitCode).toBe(0);
  return JSON.parse(result.stdout.text.trim().split('\n').at(-1)!);
}

const csv = (rows: (string | number)[][]) => `${rows.map((r) => r.join(',')).join('\n')}\n`;
const predictionsCsv = (values: number[]) => csv([['id', 'prediction'], ...values.map((v, i) => [`e${i}`, v])]);

describe('held-out grading (real Docker engine)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autolab-grading-'));
    await mkdir(join(dir, 'hidden'));
    await mkdir(join(dir, 'grader'));
    await mkdir(join(dir, 'data'));
    // The canary sits in the answers file itself, in a column the built-in metric does not read.
    await writeFile(
      join(dir, 'hidden', 'answers.csv'),
      csv([['id', 'label', 'note'], ...labels.map((l, i) => [`e${i}`, l, CANARY])]),
    );
    await writeFile(join(dir, 'data', 'test.csv'), csv([['id'], ...labels.map((_, i) => [`e${i}`])]));
    await writeFile(
      join(dir, 'grader', 'grade.py'),
      [
        'import json, sys',
        'import pandas as pd',
        'pred = pd.read_csv(sys.argv[1], dtype={"id": str})',
        'truth = pd.read_csv(sys.argv[2] + "/answers.csv", dtype={"id": str})',
        `print(open(sys.argv[2] + "/answers.csv").read())  # a grader that prints the answers`,
        'if "fail" in pred.columns: raise SystemExit(open(sys.argv[2] + "/answers.csv").read())',
        'm = truth.merge(pred, on="id")',
        'json.dump({"score": float((m["label"] == m["prediction"]).mean()), "n": len(m), "name": "x"}, open("score.json", "w"))',
      ].join('\n'),
    );
    factory = new DockerSandboxFactory(
      new DockerClient({ retryMs: 10_000 }),
      { python: process.env.AUTOLAB_PYTHON_IMAGE!, latex: process.env.AUTOLAB_LATEX_IMAGE! },
      { deployment: `grading-test-${randomBytes(3).toString('hex')}`, runId, attempt: 1, workerId: 'grading-test' },
      { memoryMb: 512 },
      'runc',
      [{ name: 'data', dir: join(dir, 'data') }],
      [
        { name: 'hidden', dir: join(dir, 'hidden') },
        { name: 'grader', dir: join(dir, 'grader') },
      ],
    );
    grader = await factory.open('grader');
  });
  afterAll(async () => {
    await factory?.closeAll();
    await rm(dir, { recursive: true, force: true });
  });

  it('only the grading sandbox holds the hidden files; an experiment sandbox searching everything finds no trace', async () => {
    const seen = await grader.exec(['cat', '/workspace/input/hidden/answers.csv'], { timeoutMs: 20_000 });
    expect(seen.stdout.text).toContain(CANARY);
    const experiment = await factory.open('python');
    const search = await experiment.exec(
      ['sh', '-c', `ls /workspace/input; grep -rl --exclude-dir=proc --exclude-dir=sys -- '${CANARY}' / ; echo done`],
      { timeoutMs: 60_000 },
    );
    expect(search.stdout.text).toContain('data');
    expect(search.stdout.text).not.toContain('hidden');
    expect(search.stdout.text.trim().endsWith('done')).toBe(true);
    expect(search.stdout.text).not.toContain('/');
    await experiment.close();
  });

  it('computes each built-in metric as this test does', async () => {
    const accuracy = labels.filter((l, i) => l === predicted[i]).length / labels.length;
    expect((await grade('accuracy', predictionsCsv(predicted))).value).toBeCloseTo(accuracy, 12);
    // Labels given as 1.0 and 0.0 are the same classes as 1 and 0.
    expect(
      (await grade('accuracy', predictionsCsv(predicted.map((p) => p + 0.0)).replace(/,(\d)$/gm, ',$1.0'))).value,
    ).toBeCloseTo(accuracy, 12);
    const tp = labels.filter((l, i) => l === 1 && predicted[i] === 1).length;
    const f1Of = (cls: number) => {
      const t = labels.filter((l, i) => l === cls && predicted[i] === cls).length;
      const p = predicted.filter((x) => x === cls).length;
      const r = labels.filter((x) => x === cls).length;
      return (2 * t) / (p + r);
    };
    expect(tp).toBeGreaterThan(0);
    expect((await grade('f1', predictionsCsv(predicted))).value).toBeCloseTo((f1Of(0) + f1Of(1)) / 2, 12);
    const errors = probabilities.map((p, i) => p - labels[i]!);
    expect((await grade('rmse', predictionsCsv(probabilities))).value).toBeCloseTo(
      Math.sqrt(errors.reduce((a, e) => a + e * e, 0) / errors.length),
      12,
    );
    expect((await grade('mae', predictionsCsv(probabilities))).value).toBeCloseTo(
      errors.reduce((a, e) => a + Math.abs(e), 0) / errors.length,
      12,
    );
    expect((await grade('logloss', predictionsCsv(probabilities))).value).toBeCloseTo(
      -labels.reduce((a, l, i) => a + Math.log(l === 1 ? probabilities[i]! : 1 - probabilities[i]!), 0) / labels.length,
      12,
    );
    // AUC: the share of (positive, negative) pairs ranked correctly.
    let pairs = 0;
    let right = 0;
    labels.forEach((l, i) => {
      if (l !== 1) return;
      labels.forEach((m, j) => {
        if (m !== 0) return;
        pairs++;
        right += probabilities[i]! > probabilities[j]! ? 1 : probabilities[i] === probabilities[j] ? 0.5 : 0;
      });
    });
    expect((await grade('auc', predictionsCsv(probabilities))).value).toBeCloseTo(right / pairs, 12);
  });

  it('says why predictions cannot be graded, without quoting the hidden data', async () => {
    const reasons = [
      await grade('accuracy', 'nothing here\n'),
      await grade(
        'accuracy',
        csv([
          ['id', 'guess'],
          ['e0', 1],
        ]),
      ),
      await grade('accuracy', predictionsCsv(predicted.slice(0, 5))),
      await grade('accuracy', `${predictionsCsv(predicted)}e0,1\n`),
      await grade('accuracy', `${predictionsCsv(predicted)}zz,1\n`),
      await grade('rmse', predictionsCsv(predicted).replace('e1,0', 'e1,cat')),
      await grade('logloss', predictionsCsv(probabilities.map((p) => p * 2))),
    ].map((r) => r.error);
    expect(reasons).toEqual([
      "predictions.csv has no 'id' and no 'prediction' column (its columns: nothing here)",
      "predictions.csv has no 'prediction' column (its columns: id, guess)",
      'predictions.csv has no prediction for 3 of the 8 held-out ids',
      'predictions.csv names 1 id(s) more than once',
      'predictions.csv has 1 id(s) that are not in the held-out set',
      'the predictions must be numbers for rmse (1 are not)',
      'the predictions must be probabilities between 0 and 1 for logloss',
    ]);
    await grader.reset();
    const none = await grader.exec(
      ['python3', '-c', BUILTIN_GRADER, 'accuracy', 'predictions.csv', '/workspace/input/hidden'],
      { timeoutMs: 60_000 },
    );
    expect(JSON.parse(none.stdout.text)).toEqual({ error: 'the program wrote no predictions.csv' });
  });

  it("runs the user's grader and returns only the numbers of score.json", async () => {
    const run = async (predictions: string) => {
      await grader.reset();
      await grader.writeFiles([{ path: 'predictions.csv', content: Buffer.from(predictions) }]);
      const result = await grader.exec(
        [
          'python3',
          '-c',
          USER_GRADER_WRAPPER,
          '/workspace/input/grader/grade.py',
          '/workspace/predictions.csv',
          '/workspace/input/hidden',
          '30',
        ],
        { timeoutMs: 60_000 },
      );
      expect(result.stdout.text + result.stderr.text).not.toContain(CANARY);
      return JSON.parse(result.stdout.text.trim());
    };
    const accuracy = labels.filter((l, i) => l === predicted[i]).length / labels.length;
    expect(await run(predictionsCsv(predicted))).toEqual({ value: accuracy, metrics: { n: 8 } });
    expect(
      await run(
        csv([
          ['id', 'prediction', 'fail'],
          ['e0', 1, 1],
        ]),
      ),
    ).toEqual({
      error: 'the grader exited with code 1 (its output is not shown: it may contain held-out data)',
    });
  });
});
