import type { ExperimentNode } from './journal.js';
import type { RunContext } from './run-context.js';
import type { LostNode, PendingNode } from './run-state.js';
import { oneLine } from './text.js';

/**
 * Nodes in flight, across worker deaths. A node is saved as pending (with its plan and code) before it runs and
 * leaves the pending list when it finishes, so a worker that resumes the run finds every node that was running
 * when the last one died: it runs each again (same id, plan and code; the model is not asked again), or, when it
 * cannot, records it as lost with the reason. No created node silently disappears.
 */

/** Starts of one node (by successive attempts of the run) before it is given up: it may be what kills the worker. */
export const MAX_NODE_STARTS = 3;

/** Saves a node as running, before its first execution. */
export async function savePending(ctx: RunContext, node: Omit<PendingNode, 'starts'>): Promise<PendingNode> {
  const pending: PendingNode = { ...node, starts: 1 };
  ctx.state.pendingNodes.push(pending);
  await ctx.checkpoint();
  return pending;
}

/** The node is in `state.nodes` now: it is no longer pending. */
export async function clearPending(ctx: RunContext, id: string): Promise<void> {
  ctx.state.pendingNodes = ctx.state.pendingNodes.filter((p) => p.id !== id);
  await ctx.checkpoint();
}

/**
 * Decides, on resume, whether a pending node can run again; if so, counts the new start and returns its parent
 * (null for a draft). Otherwise records it as lost and returns undefined. A node that finished just before the
 * worker died (it is in `state.nodes` already) is simply no longer pending.
 */
export async function resumePending(
  ctx: RunContext,
  pending: PendingNode,
): Promise<{ parent: ExperimentNode | null } | undefined> {
  const { state } = ctx;
  if (state.nodes.some((n) => n.id === pending.id)) {
    await clearPending(ctx, pending.id);
    return undefined;
  }
  const parent = pending.parentId === null ? null : (state.nodes.find((n) => n.id === pending.parentId) ?? null);
  if (pending.parentId !== null && parent === null) {
    await loseNode(ctx, pending, `its parent ${pending.parentId} is not among the finished experiments`);
    return undefined;
  }
  if (pending.starts >= MAX_NODE_STARTS) {
    await loseNode(ctx, pending, `the worker stopped ${pending.starts} times while it ran; it is not run again`);
    return undefined;
  }
  const stop = ctx.experimentStopReason();
  if (stop) {
    await loseNode(ctx, pending, `the worker stopped while it ran, and the experiments may not go on: ${stop}`);
    return undefined;
  }
  pending.starts += 1;
  await ctx.checkpoint();
  await ctx.emit({
    type: 'warning',
    message: `${pending.id} was running when the worker stopped: running it again with the same plan and code (start ${pending.starts} of at most ${MAX_NODE_STARTS}).`,
    data: { code: 'node_redone', detail: pending.id },
  });
  return { parent };
}

/**
 * Records a node that will never finish: out of the pending list, into `lostNodes` (and the journal), and a
 * `node.finished` that says why, so that every watcher sees it end. It does not count as an experiment.
 */
export async function loseNode(ctx: RunContext, pending: PendingNode, reason: string): Promise<void> {
  const { code: _code, starts: _starts, ...rest } = pending;
  const lost: LostNode = { ...rest, reason };
  ctx.state.pendingNodes = ctx.state.pendingNodes.filter((p) => p.id !== pending.id);
  ctx.state.lostNodes.push(lost);
  await ctx.sink.saveArtifact(`nodes/${pending.id}/node.json`, JSON.stringify({ ...lost, lost: true }, null, 2));
  await ctx.checkpoint();
  await ctx.emit({
    type: 'node.finished',
    message: `${pending.id} lost: ${reason}`,
    data: {
      nodeId: pending.id,
      iteration: Number(pending.id.slice(1)),
      buggy: true,
      exitCode: null,
      timedOut: false,
      durationMs: 0,
      metrics: {},
      error: `lost: ${oneLine(reason, 300)}`,
      stdoutTail: '',
      stderrTail: '',
      analysis: null,
      skippedOutputs: null,
    },
  });
}
