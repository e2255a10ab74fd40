import type { RunState } from './run-state.js';

/**
 * How a checkpoint is stored: the run state without its nodes (the "head", which names its nodes' ids in order) and
 * each node on its own. A finished node is written once, when it finishes (and again only if it changes), so the
 * bytes written over a run grow with the number of nodes, not with its square as they would if the whole state were
 * written after every model call.
 */
export interface CheckpointWrite {
  /** JSON of the state without `nodes`, with `nodeIds` (the nodes' ids, in the state's order) instead. */
  head: string;
  /** JSON of each node that is new or changed since the previous write of this attempt, by node id. */
  nodes: Record<string, string>;
  /**
   * The stored nodes are replaced by `nodes` instead of added to: the first write of an attempt (which writes every
   * node, so a store holding nodes of an earlier attempt or an older format is made whole) and any write after
   * nodes were dropped (a rerun's truncation).
   */
  replace: boolean;
}

/** A checkpoint as loaded back: the head and the stored nodes by id (JSON parsed). */
export interface StoredCheckpoint {
  head: unknown;
  nodes: Record<string, unknown>;
}

/** Turns states into writes, sending each node only when it is new or has changed since this writer last sent it. */
export class CheckpointWriter {
  /** JSON of every node as last written, by id; empty until the first write (which therefore writes them all). */
  private readonly written = new Map<string, string>();
  private first = true;

  next(state: RunState): CheckpointWrite {
    const { nodes, ...rest } = state;
    const current = new Map(nodes.map((node) => [node.id, JSON.stringify(node)]));
    const replace = this.first || [...this.written.keys()].some((id) => !current.has(id));
    const changed: Record<string, string> = {};
    for (const [id, json] of current) if (replace || this.written.get(id) !== json) changed[id] = json;
    // Only once the store has taken the write (`committed`) does it count as written.
    return { head: JSON.stringify({ ...rest, nodeIds: [...current.keys()] }), nodes: changed, replace };
  }

  /** The store took `write`: later writes leave out what it holds. */
  committed(write: CheckpointWrite): void {
    if (write.replace) this.written.clear();
    for (const [id, json] of Object.entries(write.nodes)) this.written.set(id, json);
    const ids = new Set((JSON.parse(write.head) as { nodeIds: string[] }).nodeIds);
    for (const id of [...this.written.keys()]) if (!ids.has(id)) this.written.delete(id);
    this.first = false;
  }
}

/**
 * The whole state (as `restoreState` reads it) from a stored checkpoint. A checkpoint written before nodes were
 * stored on their own (one JSON document of the whole state, from a worker of an earlier version) is passed through
 * as it is, whether it comes bare or as the head of a `StoredCheckpoint`. A node the head names but the store lacks
 * leaves `undefined` in `nodes`, which `restoreState` refuses like any other damaged checkpoint.
 */
export function joinCheckpoint(checkpoint: unknown): unknown {
  if (!isStoredCheckpoint(checkpoint)) return checkpoint;
  const head = checkpoint.head as { nodeIds?: unknown } | null;
  if (!head || typeof head !== 'object' || !Array.isArray(head.nodeIds)) return head;
  const { nodeIds, ...rest } = head as { nodeIds: string[] };
  return { ...rest, nodes: nodeIds.map((id) => checkpoint.nodes[id]) };
}

function isStoredCheckpoint(value: unknown): value is StoredCheckpoint {
  return (
    !!value &&
    typeof value === 'object' &&
    'head' in value &&
    'nodes' in value &&
    !!value.nodes &&
    typeof value.nodes === 'object' &&
    !Array.isArray(value.nodes)
  );
}
