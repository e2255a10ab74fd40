/**
 * The demo in every dialect of the scripted server (`npm run bench -- dialects`): what each costs in model calls,
 * re-asks and tokens against native tool calls, through the real stack (API, worker, Redis, Docker) in the default
 * `auto` mode. Prints the markdown table of docs/models.md.
 *
 * Knobs: DIALECTS_ITERATIONS (experiments per run, default 6), DIALECTS_ONLY (comma-separated dialects).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '@autolab/contracts';
import { DIALECTS, type Dialect } from '@autolab/testing';
import { type Stack, startStack, submitRun, waitForStatus } from '../tests/stack.js';

const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';
const ITERATIONS = Number(process.env.DIALECTS_ITERATIONS ?? 6);
const ONLY = process.env.DIALECTS_ONLY?.split(',').map((d) => d.trim()) ?? null;

interface Row {
  dialect: Dialect;
  status: string;
  mode: string;
  calls: number;
  reasks: number;
  refused: number;
  tokens: number;
  seconds: number;
}

async function measure(stack: Stack, dialect: Dialect): Promise<Row> {
  const started = Date.now();
  const submitted = await submitRun(stack, {
    goal: GOAL,
    model: `demo@${dialect}`,
    maxIterations: ITERATIONS,
    search: { numDrafts: 1 },
    seeds: 0,
    review: { reviewers: 1 },
  });
  const run: RunRecord = await waitForStatus(stack, submitted.id, ['succeeded', 'failed', 'cancelled'], 900_000);
  const artifacts = join(stack.dataDir, 'artifacts', run.id);
  const manifest = JSON.parse(await readFile(join(artifacts, 'manifest.json'), 'utf8').catch(() => '{}'));
  const transcript = (await readFile(join(artifacts, 'transcript.jsonl'), 'utf8').catch(() => ''))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { retryOf?: string });
  const served = stack.scripted.callsFor(run.id);
  return {
    dialect,
    status: run.status + (run.error ? ` (${run.error.code})` : ''),
    mode: manifest.modelMode ?? '?',
    calls: run.usage.calls,
    reasks: transcript.filter((t) => t.retryOf !== undefined).length,
    refused: served.filter((c) => c.completionTokens === 0 && c.fault === null).length,
    tokens: run.usage.totalTokens,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

async function main(): Promise<void> {
  const dialects = DIALECTS.filter((d) => ONLY === null || ONLY.includes(d));
  const stack = await startStack({ workerEnv: { AUTOLAB_WORKER_CONCURRENCY: '2', LOG_LEVEL: 'error' } });
  try {
    const rows: Row[] = [];
    // Two at a time: the worker runs two, and the machine stays responsive.
    for (let i = 0; i < dialects.length; i += 2) {
      rows.push(...(await Promise.all(dialects.slice(i, i + 2).map((d) => measure(stack, d)))));
      for (const row of rows.slice(-2)) process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    const native = rows.find((r) => r.dialect === 'tools');
    console.log(
      '| dialect | run | mode auto settled on | model calls | × native | re-asks | refused requests | tokens |',
    );
    console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of rows) {
      const ratio = native ? (r.calls / native.calls).toFixed(2) : '?';
      console.log(
        `| \`${r.dialect}\` | ${r.status} | ${r.mode} | ${r.calls} | ${ratio} | ${r.reasks} | ${r.refused} | ${r.tokens} |`,
      );
    }
  } finally {
    await stack.close();
  }
}

await main();
