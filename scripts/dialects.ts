/**
 * The demo in every dialect of the scripted server (`npm run bench -- dialects`): what each costs in model calls,
 * re-asks and tokens against native tool calls, through the real stack (API, worker, Redis, Docker) in the default
 * `auto` mode, and two forced modes (`json` against a server that honours response_format, `text` against a model
 * that could call tools natively), with the share of prompt tokens the scripted server's simulated prefix cache
 * served. Prints the markdown table of docs/models.md.
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

/** Forced modes measured after the auto sweep (a worker of their own each: the mode is worker configuration). */
const FORCED: { mode: 'json' | 'text'; dialect: Dialect }[] = [
  { mode: 'json', dialect: 'json-schema' },
  { mode: 'text', dialect: 'tools' },
];

interface Row {
  dialect: Dialect;
  setting: string;
  status: string;
  mode: string;
  calls: number;
  reasks: number;
  refused: number;
  tokens: number;
  /** Prompt tokens served from the simulated prefix cache, as a share of all prompt tokens. */
  cachedShare: number;
  seconds: number;
}

async function measure(stack: Stack, dialect: Dialect, setting = 'auto'): Promise<Row> {
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
    setting,
    status: run.status + (run.error ? ` (${run.error.code})` : ''),
    mode: manifest.modelMode ?? '?',
    calls: run.usage.calls,
    reasks: transcript.filter((t) => t.retryOf !== undefined).length,
    refused: served.filter((c) => c.completionTokens === 0 && c.fault === null).length,
    tokens: run.usage.totalTokens,
    cachedShare: run.usage.promptTokens > 0 ? run.usage.cachedTokens / run.usage.promptTokens : 0,
    seconds: Math.round((Date.now() - started) / 1000),
  };
}

async function main(): Promise<void> {
  const dialects = DIALECTS.filter((d) => ONLY === null || ONLY.includes(d));
  const rows: Row[] = [];
  const stack = await startStack({ workerEnv: { AUTOLAB_WORKER_CONCURRENCY: '2', LOG_LEVEL: 'error' } });
  try {
    // Two at a time: the worker runs two, and the machine stays responsive.
    for (let i = 0; i < dialects.length; i += 2) {
      rows.push(...(await Promise.all(dialects.slice(i, i + 2).map((d) => measure(stack, d)))));
      for (const row of rows.slice(-2)) process.stderr.write(`${JSON.stringify(row)}\n`);
    }
  } finally {
    await stack.close();
  }
  for (const { mode, dialect } of FORCED.filter((f) => ONLY === null || ONLY.includes(f.dialect))) {
    const forced = await startStack({ workerEnv: { AUTOLAB_MODEL_MODE: mode, LOG_LEVEL: 'error' } });
    try {
      rows.push(await measure(forced, dialect, mode));
      process.stderr.write(`${JSON.stringify(rows.at(-1))}\n`);
    } finally {
      await forced.close();
    }
  }
  const native = rows.find((r) => r.dialect === 'tools' && r.setting === 'auto');
  const header = ['dialect', '`AUTOLAB_MODEL_MODE`', 'run', 'mode used', 'model calls', '× native', 're-asks'];
  console.log(`| ${[...header, 'refused requests', 'tokens', 'cached'].join(' | ')} |`);
  console.log('| --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const ratio = native ? (r.calls / native.calls).toFixed(2) : '?';
    const cached = `${Math.round(100 * r.cachedShare)} %`;
    const cells = [
      `\`${r.dialect}\``,
      r.setting,
      r.status,
      r.mode,
      r.calls,
      ratio,
      r.reasks,
      r.refused,
      r.tokens,
      cached,
    ];
    console.log(`| ${cells.join(' | ')} |`);
  }
}

await main();
// Connections the stack's clients keep alive (Docker's agent, the SDK's) would hold the process open.
process.exit(0);
