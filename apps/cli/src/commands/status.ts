import type { RunRecord } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import type { ClockOptions } from '../human-format.js';
import { formatDateTime, formatNumber, formatUsage, formatUsd, oneLine } from '../human-format.js';

/** A run record as labelled lines for people. */
export function formatRunSummary(run: RunRecord, toUrl: (link: string) => string, clock: ClockOptions = {}): string[] {
  const lines = [`${run.id}  ${run.status}${run.stage ? ` (${run.stage})` : ''}`];
  const field = (label: string, value: string) => lines.push(`  ${label.padEnd(11)}${value}`);
  field('goal', oneLine(run.goal, 200));
  field('progress', `${run.iteration}/${run.maxIterations} experiments`);
  if (run.bestMetric) {
    const { name, value, direction, nodeId, iteration } = run.bestMetric;
    field('best', `${name} = ${formatNumber(value)} (${direction}; node ${nodeId}, iteration ${iteration})`);
  } else {
    field('best', '-');
  }
  field('cost', `${formatUsage(run.usage)} of ${formatUsd(run.budgetUsd)} budget`);
  field('model', run.model);
  field(
    'sandbox',
    `${run.sandbox.cpus} cpu, ${run.sandbox.memoryMb} MB, ${run.sandbox.execTimeoutSeconds}s per experiment`,
  );
  field('time limit', `${run.timeLimitMinutes} min`);
  field('created', formatDateTime(run.createdAt, clock));
  if (run.startedAt) field('started', formatDateTime(run.startedAt, clock));
  if (run.finishedAt) field('finished', formatDateTime(run.finishedAt, clock));
  if (run.attempt > 1) field('attempts', `${run.attempt} (resumed after an interruption)`);
  if (run.error) field('error', `${run.error.code}: ${oneLine(run.error.message, 200)}`);
  field('events', toUrl(run.links.events));
  field('artifacts', toUrl(run.links.artifacts));
  return lines;
}

export async function statusCommand(ctx: CliContext, runId: string, options: { json?: boolean }): Promise<ExitCode> {
  const run = await ctx.client.getRun(runId);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(run)}\n`);
  } else {
    for (const line of formatRunSummary(run, (link) => ctx.client.url(link), ctx.clock)) ctx.io.out(`${line}\n`);
  }
  return ExitCode.Ok;
}
