import { ApiError } from '@autolab/api-client';
import { EVOLVE_ARTIFACTS, type MetricDirection, type RunEvent } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration, formatNumber, formatTable, lastLine, oneLine } from '../human-format.js';
import { treeBranches } from '../tree-branches.js';
import { evolvePopulation, formatEvolveTree, parseEvolveDatabase } from './evolve-tree.js';

/** One experiment of the search, as its events describe it. */
export interface TreeNodeSummary {
  id: string;
  parentId: string | null;
  operator: string;
  stage: string | null;
  iteration: number;
  plan: string;
  status: 'running' | 'ok' | 'buggy';
  metrics: Record<string, number>;
  error: string | null;
  durationMs: number | null;
}

export interface ExperimentTree {
  metric: { name: string; direction: MetricDirection } | null;
  nodes: TreeNodeSummary[];
  bestNodeId: string | null;
}

/**
 * The experiment tree of the run's current search, folded from its events. A rerun from the experiments starts a
 * new search, so what came before it is dropped; a resumed run re-announces only the node it was running.
 */
export function experimentTree(events: RunEvent[]): ExperimentTree {
  let metric: ExperimentTree['metric'] = null;
  let nodes = new Map<string, TreeNodeSummary>();
  let bestNodeId: string | null = null;
  for (const event of events) {
    switch (event.type) {
      case 'plan.ready':
        metric = { name: event.data.metric.name, direction: event.data.metric.direction };
        break;
      case 'run.requeued':
        if (event.data.rerunFrom === 'experiments') {
          nodes = new Map();
          bestNodeId = null;
        }
        break;
      case 'node.created':
        nodes.set(event.data.nodeId, {
          id: event.data.nodeId,
          parentId: event.data.parentId,
          operator: event.data.operator,
          stage: event.data.stage,
          iteration: event.data.iteration,
          plan: event.data.plan,
          status: 'running',
          metrics: {},
          error: null,
          durationMs: null,
        });
        break;
      case 'node.finished': {
        const node = nodes.get(event.data.nodeId);
        if (!node) break;
        node.status = event.data.buggy ? 'buggy' : 'ok';
        node.metrics = event.data.metrics;
        node.error = event.data.error;
        node.durationMs = event.data.durationMs;
        break;
      }
      case 'metric.improved':
        bestNodeId = event.data.nodeId;
        break;
    }
  }
  return { metric, nodes: [...nodes.values()], bestNodeId };
}

const STATUS_MARK = { ok: '✓', buggy: '✗', running: '…' } as const;
/** An error's last line is cut to this, so the plan keeps room beside it. */
const MAX_ERROR = 40;

/**
 * The tree as text under a line naming the metric, one node per line under its parent, in columns that line up
 * whatever the depth: the tree, the operator (named as in the events and on the dashboard), the stage, the outcome,
 * the time, the metric's value or the error's last line, and as much of the plan as fits in `width`:
 * `└─ n002  debug           baseline  ✓  2.1s  0.91 ★ best  Fix the crash: …`.
 */
export function formatExperimentTree(tree: ExperimentTree, width = 100): string[] {
  if (tree.nodes.length === 0) return ['no experiments yet'];
  const rows = treeBranches(tree.nodes).map(({ branch, node }) => {
    const value = tree.metric ? node.metrics[tree.metric.name] : undefined;
    const detail =
      node.status === 'buggy'
        ? lastLine(node.error ?? 'failed', MAX_ERROR)
        : value !== undefined
          ? `${formatNumber(value)}${node.id === tree.bestNodeId ? ' ★ best' : ''}`
          : node.status === 'running'
            ? 'running'
            : 'no metric';
    return { tree: branch, node, detail };
  });
  const lines: string[] = [];
  if (tree.metric) lines.push(`metric: ${tree.metric.name} (${tree.metric.direction})`);
  // The plan comes last: it is the column cut to the width.
  const cells = rows.map(({ tree: branch, node, detail }) => [
    branch,
    node.operator,
    node.stage ?? '',
    STATUS_MARK[node.status],
    took(node),
    detail,
    oneLine(node.plan, width),
  ]);
  lines.push(...formatTable(cells, { align: TREE_ALIGN, maxWidth: width }));
  return lines;
}

/** The time column is right-aligned, so durations line up by their unit. */
const TREE_ALIGN = ['left', 'left', 'left', 'left', 'right', 'left', 'left'] as const;

const took = (node: TreeNodeSummary) => (node.durationMs !== null ? formatDuration(node.durationMs) : '');

export async function treeCommand(ctx: CliContext, runId: string, options: { json?: boolean }): Promise<ExitCode> {
  const width = ctx.io.stdoutTty?.columns() ?? 100;
  const run = await ctx.client.getRun(runId);
  if (run.mode === 'evolve') {
    const db = parseEvolveDatabase(await readIfWritten(ctx, runId, EVOLVE_ARTIFACTS.database));
    const population = evolvePopulation(db, await ctx.client.allEvents(runId));
    if (options.json) ctx.io.out(`${JSON.stringify({ runId, ...population })}\n`);
    else for (const line of formatEvolveTree(population, width)) ctx.io.out(`${line}\n`);
    return ExitCode.Ok;
  }
  const tree = experimentTree(await ctx.client.allEvents(runId));
  if (options.json) {
    ctx.io.out(`${JSON.stringify({ runId, ...tree })}\n`);
    return ExitCode.Ok;
  }
  for (const line of formatExperimentTree(tree, width)) ctx.io.out(`${line}\n`);
  return ExitCode.Ok;
}

/** A run's text file, or null while it is not written (404). */
async function readIfWritten(ctx: CliContext, runId: string, path: string): Promise<string | null> {
  try {
    return await ctx.client.readArtifactText(runId, path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}
