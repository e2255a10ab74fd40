/**
 * Node span against the program's own exec time (issue 10's `nodeSpanPerExec`): runs the `long` scenario (44 nodes of
 * fast numpy programs) through an in-process API + worker + scripted model server against the real Redis and Docker
 * engine, and compares, node by node, node.created → node.finished with the node's `durationMs` (the program's exec).
 * The rest of the span is what a node pays around its program: sandbox steps, artifact writes, the judge's model
 * call, the checkpoint.
 *
 * Part of `npm run bench` (scripts/bench.ts; `npm run bench -- span` alone). On its own:
 * `npx tsx scripts/node-span.ts [runs]` (default 1 run) prints one `NODE_SPAN_JSON {...}` line per run.
 * Compare two versions of the code by running it alternately in two checkouts (docs/performance.md).
 */
import { pathToFileURL } from 'node:url';
import type { RunEvent, RunRecord } from '@autolab/contracts';
import { api, readSse, type Stack, startStack, submitRun } from '../tests/stack.js';

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}
const round2 = (x: number) => Math.round(x * 100) / 100;

/** One `long` run on the stack's worker; the node spans, program exec times and their ratio (median, p90). */
export async function measureNodeSpan(stack: Stack) {
  const started = Date.now();
  const record = await submitRun(stack, {
    goal: 'Tune mini-batch gradient descent for logistic regression on badly scaled features.',
    model: 'long',
    maxIterations: 44,
    search: { numDrafts: 1 },
    seeds: 0,
    review: { reviewers: 0 },
    timeLimitMinutes: 30,
  });
  // The event stream ends with the run (or fails when the run vanished, e.g. someone flushed the shared Redis).
  const { events, ended } = await readSse(stack, record.id, { timeoutMs: 30 * 60_000 });
  if (!ended) throw new Error(`the event stream of ${record.id} did not end`);
  const run = (await api<RunRecord>(stack, `/v1/runs/${record.id}`)).body;
  const created = new Map<string, number>();
  const ratios: number[] = [];
  const spans: number[] = [];
  const execs: number[] = [];
  for (const event of events as (RunEvent & { data: Record<string, unknown> })[]) {
    const nodeId = event.data?.nodeId as string | undefined;
    if (event.type === 'node.created' && nodeId) created.set(nodeId, Date.parse(event.time));
    if (event.type === 'node.finished' && nodeId && created.has(nodeId)) {
      const span = Date.parse(event.time) - created.get(nodeId)!;
      const exec = event.data.durationMs as number;
      spans.push(span);
      execs.push(exec);
      ratios.push(span / exec);
    }
  }
  const sortedRatios = [...ratios].sort((a, b) => a - b);
  const sortedSpans = [...spans].sort((a, b) => a - b);
  const sortedExecs = [...execs].sort((a, b) => a - b);
  const overhead = spans.map((s, i) => s - execs[i]!).sort((a, b) => a - b);
  return {
    status: run.status,
    nodes: ratios.length,
    runSeconds: Math.round((Date.now() - started) / 1000),
    ratio: { median: round2(quantile(sortedRatios, 0.5)), p90: round2(quantile(sortedRatios, 0.9)) },
    spanMs: { median: quantile(sortedSpans, 0.5), p90: quantile(sortedSpans, 0.9) },
    execMs: { median: quantile(sortedExecs, 0.5), p90: quantile(sortedExecs, 0.9) },
    overheadMs: { median: quantile(overhead, 0.5), p90: quantile(overhead, 0.9) },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const runs = Number(process.argv[2] ?? 1);
  const stack = await startStack();
  try {
    for (let round = 0; round < runs; round++) {
      console.log(`NODE_SPAN_JSON ${JSON.stringify(await measureNodeSpan(stack))}`);
    }
  } finally {
    await stack.close();
  }
}
