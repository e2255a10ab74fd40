import type { CheckpointWrite, StoredCheckpoint } from '@autolab/contracts';
import type { RunState } from './run-state.js';

/**
 * A finished node is written once, when it finishes (and again only if it changes), so the bytes written over a run
 * grow with the number of nodes, not with its square as they would if the whole state were written after every model
 * call. The shape of a write and of a loaded checkpoint is in contracts (the store reads it too).
 */
export type { CheckpointWrite, StoredCheckpoint };

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
