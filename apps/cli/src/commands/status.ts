import type { RunRecord } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import type { ClockOptions } from '../human-format.js';
import { formatDateTime, formatModels, formatNumber, formatUsage, formatUsd, oneLine } from '../human-format.js';

/** A run record as labelled lines for people. */
export function formatRunSummary(run: RunRecord, toUrl: (link: string) => string, clock: ClockOptions = {}): string[] {
  const stage = run.stage ? ` (${run.stage}${run.experimentStage ? ` › ${run.experimentStage}` : ''})` : '';
  const lines = [`${run.id}  ${run.status}${stage}`];
  const field = (label: string, value: string) => lines.push(`  ${label.padEnd(11)}${value}`);
  field('goal', oneLine(run.goal, 200));
  field('tenant', run.tenant);
  field('progress', `${run.iteration}/${run.maxIterations} experiments`);
  if (run.bestMetric) {
    const { name, value, direction, nodeId, iteration } = run.bestMetric;
    field('best', `${name} = ${formatNumber(value)} (${direction}; node ${nodeId}, iteration ${iteration})`);
  } else {
    field('best', '-');
  }
  if (run.heldOut) {
    const { metric, value, direction, nodeId } = run.heldOut;
    field('held-out', `${metric} = ${formatNumber(value)} (${direction}; node ${nodeId}; measured by the service)`);
  }
  if (run.review) {
    const { decision, overall, confidence, reviewers } = run.review;
    field('review', `${decision} (overall ${overall}/10, confidence ${confidence}, ${reviewers} reviewers)`);
  }
  const tokenCap =
    run.policy.maxTokens !== null ? `, at most ${run.policy.maxTokens.toLocaleString('en-US')} tokens` : '';
  const budget =
    run.budgetUsd === null ? 'no USD budget (a model has no price)' : `of ${formatUsd(run.budgetUsd)} budget`;
  field('cost', `${formatUsage(run.usage)} ${budget}${tokenCap}`);
  field('models', formatModels(run.models));
  field(
    'sandbox',
    `${run.sandbox.cpus} cpu, ${run.sandbox.memoryMb} MB, ${run.sandbox.execTimeoutSeconds}s per experiment`,
  );
  field('time limit', `${run.timeLimitMinutes} min`);
  for (const [index, line] of formatPolicy(run.policy).entries()) field(index === 0 ? 'policy' : '', line);
  field('created', formatDateTime(run.createdAt, clock));
  if (run.startedAt) field('started', formatDateTime(run.startedAt, clock));
  if (run.finishedAt) field('finished', formatDateTime(run.finishedAt, clock));
  if (run.attempt > 1) field('attempts', `${run.attempt} (resumed after an interruption)`);
  if (run.error) field('error', `${run.error.code}: ${oneLine(run.error.message, 200)}`);
  field('dashboard', toUrl(run.links.dashboard));
  field('events', toUrl(run.links.events));
  field('artifacts', toUrl(run.links.artifacts));
  return lines;
}

/** The search, ideation and review settings in two short lines. */
export function formatPolicy(policy: RunRecord['policy']): string[] {
  const { search, ideation, review, seeds, pageLimit } = policy;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `search: ${plural(search.numDrafts, 'draft')}, debug p=${search.debugProb} (depth ${search.maxDebugDepth}), ` +
      `${search.nodeConcurrency} at a time; ${plural(seeds, 'extra seed')}`,
    `ideas: ${ideation.numIdeas}, ${plural(ideation.reflections, 'reflection')}; review: ` +
      `${plural(review.reviewers, 'reviewer')}${review.revise ? ', one revision' : ''}; ${plural(pageLimit, 'page')}`,
  ];
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
