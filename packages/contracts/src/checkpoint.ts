/**
 * How a run's checkpoint crosses from the engine (which writes it, `CheckpointWriter`) to the store (which keeps it
 * in Redis, `RunStore.saveCheckpoint`/`loadCheckpoint`): the run state without its nodes (the "head", which names
 * its nodes' ids in order) and each node on its own, so a finished node is written once.
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
