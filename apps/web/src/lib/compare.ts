import type { RunRecord } from '@autolab/contracts';
import { formatDuration, formatMetric, formatUsd } from './format.js';

/** One line of the compare view's settings table: a label, each run's value, and whether they differ. */
export interface CompareRow {
  label: string;
  values: string[];
  differs: boolean;
}

const duration = (run: RunRecord) =>
  run.startedAt
    ? formatDuration(Date.parse(run.finishedAt ?? new Date().toISOString()) - Date.parse(run.startedAt))
    : '—';

/** What was asked of each run and what it used, one row per setting, in the order the new-run form asks them. */
const SETTINGS: [string, (run: RunRecord) => string][] = [
  ['Status', (r) => r.status],
  ['Model', (r) => r.model],
  [
    'Models per role',
    (r) =>
      Object.entries(r.models)
        .filter(([role, model]) => role !== 'code' && model !== r.model)
        .map(([role, model]) => `${role} ${model ?? 'off'}`)
        .join(', ') || 'all the same',
  ],
  ['Max iterations', (r) => String(r.maxIterations)],
  ['Iterations done', (r) => String(r.iteration)],
  ['Budget (USD)', (r) => (r.budgetUsd === null ? 'none' : formatUsd(r.budgetUsd))],
  ['Cost', (r) => formatUsd(r.usage.costUsd)],
  ['Tokens', (r) => r.usage.totalTokens.toLocaleString('en-US')],
  ['Model calls', (r) => String(r.usage.calls)],
  ['Time limit (min)', (r) => String(r.timeLimitMinutes)],
  ['Duration', duration],
  [
    'Sandbox',
    (r) => `${r.sandbox.image}, ${r.sandbox.cpus} CPU, ${r.sandbox.memoryMb} MB, ${r.sandbox.execTimeoutSeconds} s`,
  ],
  [
    'Tree search',
    (r) =>
      `${r.policy.search.numDrafts} drafts, debug ${r.policy.search.debugProb}, depth ${r.policy.search.maxDebugDepth}, ${r.policy.search.nodeConcurrency} parallel`,
  ],
  ['Ideas', (r) => `${r.policy.ideation.numIdeas} ideas, ${r.policy.ideation.reflections} reflection(s)`],
  ['Extra seeds', (r) => String(r.policy.seeds)],
  ['Reviewers', (r) => `${r.policy.review.reviewers}${r.policy.review.revise ? ', revise' : ''}`],
  ['Page limit', (r) => String(r.policy.pageLimit)],
  ['Max tokens', (r) => (r.policy.maxTokens === null ? 'none' : r.policy.maxTokens.toLocaleString('en-US'))],
];

export function settingsRows(runs: readonly RunRecord[]): CompareRow[] {
  return SETTINGS.map(([label, read]) => {
    const values = runs.map(read);
    return { label, values, differs: new Set(values).size > 1 };
  });
}

/** Each run's outcome: its best node and metric, the review, the held-out score. */
export function resultRows(runs: readonly RunRecord[]): CompareRow[] {
  const rows: [string, (run: RunRecord) => string][] = [
    ['Best metric', (r) => (r.bestMetric ? `${r.bestMetric.name} ${formatMetric(r.bestMetric.value)}` : '—')],
    ['Direction', (r) => r.bestMetric?.direction ?? '—'],
    ['Best node', (r) => (r.bestMetric ? `${r.bestMetric.nodeId} (iteration ${r.bestMetric.iteration})` : '—')],
    ['Review', (r) => (r.review ? `${r.review.overall}/10, ${r.review.decision}` : '—')],
    ['Held-out score', (r) => (r.heldOut ? `${r.heldOut.metric} ${formatMetric(r.heldOut.value)}` : '—')],
  ];
  return rows.map(([label, read]) => {
    const values = runs.map(read);
    return { label, values, differs: new Set(values).size > 1 };
  });
}
