import type { ArtifactStore } from './artifact-store.js';
import {
  type ArchivedEvent,
  type ArchivedState,
  EVENTS_FILE,
  readArchivedEvents,
  STATE_FILE,
  serializeArchivedEvents,
} from './run-archive-files.js';
import { compareStreamIds, type RunStore } from './run-store.js';

// Drops from Redis what was archived, only if the run is still the finished run that was read (same finish time: no
// rerun started, or started and finished again, meanwhile). Events up to ARGV[2] go (a later event stays), and
// `archivedThrough` says readers find them in the archive now; the checkpoint goes when it was archived too.
// KEYS: run, events, checkpoint, nodes, finished-runs set. ARGV: finishedAt, last archived id, the id just after it,
// '1' to drop the checkpoint, run id.
const COMMIT_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'succeeded' and status ~= 'failed' and status ~= 'cancelled' then return 0 end
if redis.call('HGET', KEYS[1], 'finishedAt') ~= ARGV[1] then return 0 end
if ARGV[2] ~= '' then
  redis.call('XTRIM', KEYS[2], 'MINID', ARGV[3])
  redis.call('HSET', KEYS[1], 'archivedThrough', ARGV[2])
end
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[3], KEYS[4])
  redis.call('HSET', KEYS[1], 'stateArchived', '1')
end
redis.call('ZREM', KEYS[5], ARGV[5])
return 1
`;

/** What one archiving of a run read from Redis and is about to write to the archive store. */
export interface PreparedArchive {
  runId: string;
  /** The finish time read with it: the commit only happens if the run still has it. */
  finishedAt: string;
  /** Every event of the run so far (the earlier archive's and the stream's), in order. */
  events: ArchivedEvent[];
  /** The last checkpoint, when Redis still held it. */
  state: ArchivedState | null;
}

/**
 * Moves what a finished run no longer needs in Redis to the artifact store once `retentionMs` has passed since it
 * finished: its event log (the events API reads it from there, same ids, order and shape) and its last checkpoint
 * (a rerun resumes from there). Three steps, each safe to be the last one a process did before it was killed:
 * read (nothing changes), write the files (each replaces the earlier one whole; readers take from it only the events
 * up to the run's `archivedThrough`, which has not moved), commit (one atomic Redis step trims exactly what the files
 * hold and moves `archivedThrough`). A killed archiver leaves the run in the set of finished runs, and the next sweep
 * (of any worker) does it again; two workers doing it at once write the same files.
 */
export class RunArchiver {
  constructor(
    private readonly runs: RunStore,
    /** The run archive store (`openRunArchiveStore`). */
    private readonly store: ArtifactStore,
    private readonly retentionMs: number,
  ) {}

  /** Archives the runs whose retention has passed (at most `limit` per call); the ids of those it archived. */
  async archiveDue(now = Date.now(), limit = 20): Promise<string[]> {
    const due = await this.runs.redis.zrangebyscore(
      this.runs.keys.finishedRuns(),
      '-inf',
      now - this.retentionMs,
      'LIMIT',
      0,
      limit,
    );
    const done: string[] = [];
    for (const runId of due) if (await this.archive(runId)) done.push(runId);
    return done;
  }

  /** Archives one finished run now; false when it is not finished (any more) or changed meanwhile. */
  async archive(runId: string): Promise<boolean> {
    const prepared = await this.prepare(runId);
    if (!prepared) return false;
    await this.write(prepared);
    return this.commit(prepared);
  }

  /** Step 1: reads, in one atomic step, everything to archive. Null when the run is not finished. */
  async prepare(runId: string): Promise<PreparedArchive | null> {
    const { redis, keys } = this.runs;
    const [[, fields], [, entries], [, head], [, nodes]] = (await redis
      .multi()
      .hmget(keys.run(runId), 'status', 'finishedAt', 'archivedThrough')
      .xrange(keys.events(runId), '-', '+')
      .get(keys.checkpoint(runId))
      .hgetall(keys.checkpointNodes(runId))
      .exec()) as [
      [unknown, (string | null)[]],
      [unknown, [string, string[]][]],
      [unknown, string | null],
      [unknown, Record<string, string>],
    ];
    const [status, finishedAt, through] = fields;
    if (status !== 'succeeded' && status !== 'failed' && status !== 'cancelled') {
      // Not finished (a rerun took it back): nothing to archive until it finishes again.
      await redis.zrem(keys.finishedRuns(), runId);
      return null;
    }
    const earlier: ArchivedEvent[] = [];
    if (through) {
      const archived = await readArchivedEvents(this.store, runId);
      if (!archived) throw new Error(`the archived events of ${runId} are missing from the run archive store`);
      earlier.push(...archived.filter(([id]) => compareStreamIds(id, through) <= 0));
    }
    const live = entries.map(([id, values]): ArchivedEvent => [id, values[values.indexOf('e') + 1] ?? '{}']);
    return {
      runId,
      finishedAt: finishedAt ?? '',
      events: [...earlier, ...live],
      state: head ? { head, nodes } : null,
    };
  }

  /** Step 2: writes the files (each one whole, replacing an earlier one). */
  async write(prepared: PreparedArchive): Promise<void> {
    if (prepared.events.length > 0)
      await this.store.put(prepared.runId, EVENTS_FILE, serializeArchivedEvents(prepared.events));
    if (prepared.state) await this.store.put(prepared.runId, STATE_FILE, JSON.stringify(prepared.state));
  }

  /** Step 3: drops from Redis what the files hold, atomically; false if the run changed since step 1. */
  async commit(prepared: PreparedArchive): Promise<boolean> {
    const { redis, keys } = this.runs;
    const last = prepared.events.at(-1)?.[0] ?? '';
    const result = await redis.eval(
      COMMIT_SCRIPT,
      5,
      keys.run(prepared.runId),
      keys.events(prepared.runId),
      keys.checkpoint(prepared.runId),
      keys.checkpointNodes(prepared.runId),
      keys.finishedRuns(),
      prepared.finishedAt,
      last,
      last ? nextStreamId(last) : '',
      prepared.state ? '1' : '0',
      prepared.runId,
    );
    return result === 1;
  }
}

/** The smallest stream id after `id` (`XTRIM MINID` keeps ids from it on). */
function nextStreamId(id: string): string {
  const [ms, seq = '0'] = id.split('-');
  return `${ms}-${BigInt(seq) + 1n}`;
}
