import { createHash } from 'node:crypto';
import {
  type BestMetric,
  type CheckpointWrite,
  CreateRunRequest,
  DEFAULT_SANDBOX_IMAGE,
  type ExperimentStage,
  emptyUsage,
  type HeldOutScore,
  isFinalStatus,
  type NewEvent,
  type RerunStage,
  type ReviewSummary,
  type RunError,
  type RunEvent,
  type RunModels,
  type RunOptions,
  type RunRecord,
  type RunStage,
  type RunStatus,
  type SearchPolicy,
  type SearchTuning,
  type StartingCodeGain,
  type StoredCheckpoint,
  type Usage,
} from '@autolab/contracts';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { ArtifactStore } from './artifact-store.js';
import type { RedisKeys } from './redis-keys.js';
import { type ArchivedState, readArchivedEvents, readArchivedState } from './run-archive-files.js';
import { newRunId } from './run-id.js';

/** A run as stored; the API adds the links. */
export type StoredRun = Omit<RunRecord, 'links'>;

/** Another attempt (a newer worker) owns the run now; this one must stop without touching it. */
export class RunSupersededError extends Error {
  constructor(runId: string, attempt: number) {
    super(`attempt ${attempt} of ${runId} no longer owns the run`);
    this.name = this.constructor.name;
  }
}

export class IdempotencyConflictError extends Error {
  constructor(readonly runId: string) {
    super('this Idempotency-Key was already used with a different request body');
    this.name = this.constructor.name;
  }
}

const IDEMPOTENCY_TTL_SECONDS = 24 * 60 * 60;

// Creates a run and its first event atomically; with an idempotency key, a second call returns the first run.
// The tenant's set of live runs is checked and updated in the same step, so concurrent submits cannot pass the cap.
const CREATE_SCRIPT = `
if ARGV[1] ~= '' then
  local existing = redis.call('GET', ARGV[1])
  if existing then return existing end
end
local max = tonumber(ARGV[7])
if max > 0 and redis.call('SCARD', KEYS[5]) >= max then return 'LIMIT|' .. redis.call('SCARD', KEYS[5]) end
if ARGV[1] ~= '' then redis.call('SET', ARGV[1], ARGV[2] .. '|' .. ARGV[3], 'EX', ARGV[4]) end
local fields = cjson.decode(ARGV[6])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('ZADD', KEYS[4], 0, ARGV[2])
redis.call('SADD', KEYS[5], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[5])
return ARGV[2] .. '|' .. ARGV[3]
`;

// Moves a run to a new status only from one of the allowed ones; optionally appends an event in the same step.
// A status change also keeps the tenant's set of live runs (KEYS[3]) and the set of finished runs the archiver
// takes from (KEYS[4], scored by the finish time ARGV[6]) right.
const TRANSITION_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -1 end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do if s == status then allowed = true end end
if not allowed then return 0 end
local fields = cjson.decode(ARGV[2])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
if ARGV[3] ~= '' then redis.call('XADD', KEYS[2], '*', 'e', ARGV[3]) end
if ARGV[4] == 'queued' or ARGV[4] == 'running' then
  redis.call('SADD', KEYS[3], ARGV[5])
  redis.call('ZREM', KEYS[4], ARGV[5])
elseif ARGV[4] ~= '' then
  redis.call('SREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[4], ARGV[6], ARGV[5])
end
return 1
`;

// A finished run goes back to the queue for a rerun: final → queued, the error and finish time cleared, the cancel
// flag of an earlier cancel dropped, 'run.requeued' appended, the live-run set (and its cap) updated. Returns the
// rerun's number, which makes the new job's id unique.
const RERUN_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'succeeded' and status ~= 'failed' and status ~= 'cancelled' then return 'live|' .. status end
local max = tonumber(ARGV[1])
if max > 0 and redis.call('SCARD', KEYS[3]) >= max then return 'limit|' .. redis.call('SCARD', KEYS[3]) end
local n = redis.call('HINCRBY', KEYS[1], 'reruns', 1)
local jobId = ARGV[3] .. '.rerun-' .. n
redis.call('HSET', KEYS[1], 'status', 'queued', 'finishedAt', '', 'error', 'null', 'jobId', jobId, 'rerunFrom', ARGV[4])
redis.call('HDEL', KEYS[1], 'cancelRequested')
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[3])
redis.call('XADD', KEYS[2], '*', 'e', ARGV[2])
return 'ok|' .. jobId
`;

// One checkpoint write (see saveCheckpoint): fenced by attempt; the nodes and the head change together or not at all.
// ARGV: attempt, head, replace ('1': the stored nodes are dropped first), then node id / node JSON pairs.
const SAVE_CHECKPOINT_SCRIPT = `
if redis.call('HGET', KEYS[1], 'attempt') ~= ARGV[1] then return 0 end
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[3])
  -- A replacing write holds every node: Redis has the whole state again, the archived copy is not needed to resume.
  redis.call('HDEL', KEYS[1], 'stateArchived')
end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`;

const FINAL = ['succeeded', 'failed', 'cancelled'] as const;
const LIVE = ['queued', 'running'] as const;

export interface CreateRunResult {
  run: StoredRun;
  created: boolean;
}

/** The tenant already has as many live (queued or running) runs as it may. */
export class TooManyActiveRunsError extends Error {
  constructor(
    readonly tenant: string,
    readonly active: number,
    readonly max: number,
  ) {
    super(`tenant ${tenant} has ${active} live runs; at most ${max} are allowed`);
    this.name = this.constructor.name;
  }
}

export type RerunResult =
  | { ok: true; jobId: string }
  | { ok: false; reason: 'not_found' }
  | { ok: false; reason: 'not_finished'; status: RunStatus }
  | { ok: false; reason: 'too_many_active_runs'; active: number };

export interface RunLimits {
  /** Live (queued + running) runs one tenant may have; 0 = no limit. */
  maxActiveRuns?: number;
}

/** A run's events or state were archived, but this store was given no archive store to read them from. */
export class RunArchiveUnavailableError extends Error {
  constructor(runId: string) {
    super(`the events or state of ${runId} are archived, and this process has no run archive store configured`);
    this.name = this.constructor.name;
  }
}

/**
 * How many archived event logs each process keeps parsed in memory (the least recently read go first), so paging
 * through one reads and parses its file once, not once per page.
 */
const ARCHIVE_CACHE_SIZE = 16;

/**
 * Run records (a Redis hash per run), the run index, each run's event log (a Redis stream) and checkpoint. Once a
 * finished run has been archived (RunArchiver), its older events and its last checkpoint are read from the archive
 * store instead, transparently: same ids, same order, same events.
 */
export class RunStore {
  /**
   * Keyed by run id and `archivedThrough`: a run archived again (after a rerun) has a new key, so a cached log is
   * never served for more than it holds. Pages asked for while the file is being read share that one read; a failed
   * read is not kept.
   */
  private readonly archiveCache = new LRUCache<string, RunEvent[], string>({
    max: ARCHIVE_CACHE_SIZE,
    fetchMethod: (_key, _stale, { context: runId }) => this.readArchive(runId),
  });

  constructor(
    readonly redis: Redis,
    readonly keys: RedisKeys,
    /** Where archived runs' events and state are read from (`openRunArchiveStore`); without it they cannot be. */
    readonly archive: ArtifactStore | null = null,
  ) {}

  async create(
    options: Omit<RunOptions, 'model' | 'models' | 'budgetUsd'> & {
      goal: string;
      models: RunModels;
      budgetUsd: number | null;
      tenant: string;
    },
    idempotencyKey?: string,
    limits: RunLimits = {},
    /**
     * The search policy after the tenant's statistics set what the request left out, and why (`tuneSearch`). Kept
     * out of the idempotency hash: the same request repeated is the same run, however the statistics moved since.
     */
    tuned: { search: SearchPolicy; tuning: SearchTuning[] } | null = null,
  ): Promise<CreateRunResult> {
    const id = newRunId();
    const now = new Date().toISOString();
    const bodyHash = createHash('sha256').update(stableJson(options)).digest('hex').slice(0, 32);
    const fields: Record<string, string> = {
      id,
      mode: options.mode,
      goal: options.goal,
      status: 'queued',
      stage: '',
      iteration: '0',
      maxIterations: String(options.maxIterations),
      model: options.models.code,
      models: JSON.stringify(options.models),
      budgetUsd: options.budgetUsd === null ? '' : String(options.budgetUsd),
      timeLimitMinutes: String(options.timeLimitMinutes),
      sandbox: JSON.stringify(options.sandbox),
      policy: JSON.stringify({
        maxTokens: options.maxTokens ?? null,
        search: tuned?.search ?? options.search,
        searchTuning: tuned?.tuning ?? [],
        ideation: options.ideation,
        review: options.review,
        seeds: options.seeds,
        pageLimit: options.pageLimit,
        lessons: options.lessons,
        evolve: options.evolve ?? null,
      }),
      tenant: options.tenant,
      inputs: JSON.stringify(options.inputs ?? {}),
      experimentStage: '',
      review: 'null',
      bestMetric: 'null',
      heldOut: 'null',
      usage: JSON.stringify(emptyUsage()),
      attempt: '0',
      createdAt: now,
      startedAt: '',
      finishedAt: '',
      error: 'null',
    };
    const event = serializeEvent({
      type: 'run.queued',
      message: `Run queued: ${truncate(options.goal, 120)}`,
      data: { goal: options.goal },
    });
    const maxActive = limits.maxActiveRuns ?? 0;
    const result = (await this.redis.eval(
      CREATE_SCRIPT,
      5,
      this.keys.run(id),
      this.keys.runIndex(),
      this.keys.events(id),
      this.keys.tenantRunIndex(options.tenant),
      this.keys.tenantActiveRuns(options.tenant),
      idempotencyKey ? this.keys.idempotency(options.tenant, idempotencyKey) : '',
      id,
      bodyHash,
      String(IDEMPOTENCY_TTL_SECONDS),
      event,
      JSON.stringify(fields),
      String(maxActive),
    )) as string;
    const [runId, hash] = result.split('|') as [string, string];
    if (runId === 'LIMIT') throw new TooManyActiveRunsError(options.tenant, Number(hash), maxActive);
    if (runId !== id && hash !== bodyHash) throw new IdempotencyConflictError(runId);
    const run = await this.get(runId);
    if (!run) {
      // The key outlived its run (deleted by hand): forget the key and create afresh.
      if (idempotencyKey && runId !== id) {
        await this.redis.del(this.keys.idempotency(options.tenant, idempotencyKey));
        return this.create(options, idempotencyKey, limits);
      }
      throw new Error(`run ${runId} vanished right after creation`);
    }
    return { run, created: runId === id };
  }

  /** The tenant's queued and running runs. */
  async activeRuns(tenant: string): Promise<StoredRun[]> {
    const ids = await this.redis.smembers(this.keys.tenantActiveRuns(tenant));
    const runs = await Promise.all(ids.map((id) => this.get(id)));
    return runs.filter((run): run is StoredRun => run !== null);
  }

  /** The run's record; `redis` is another connection to read it on (a tracking one, `TrackedReads`). */
  async get(runId: string, redis: Redis = this.redis): Promise<StoredRun | null> {
    const h = await redis.hgetall(this.keys.run(runId));
    if (!h.id) return null;
    return parseRun(h);
  }

  /**
   * Newest first. The cursor is the id of the last run of the previous page. With `tenant`, only that tenant's runs
   * (from its own index); without, every run.
   */
  async list(
    limit: number,
    cursor?: string,
    tenant?: string,
  ): Promise<{ runs: StoredRun[]; nextCursor: string | null }> {
    const max = cursor ? `(${cursor}` : '+';
    const index = tenant === undefined ? this.keys.runIndex() : this.keys.tenantRunIndex(tenant);
    const page = await this.redis.zrevrangebylex(index, max, '-', 'LIMIT', 0, limit + 1);
    const pipeline = this.redis.pipeline();
    for (const id of page.slice(0, limit)) pipeline.hgetall(this.keys.run(id));
    const rows = ((await pipeline.exec()) ?? []).map(([, h]) => h as Record<string, string>);
    const runs = rows.filter((h) => h.id).map(parseRun);
    return { runs, nextCursor: page.length > limit ? (page[limit - 1] ?? null) : null };
  }

  /** Sets fields of a live run; a finished run is not changed any more. */
  async progress(
    runId: string,
    patch: {
      stage?: RunStage;
      experimentStage?: ExperimentStage | null;
      iteration?: number;
      bestMetric?: BestMetric | null;
      heldOut?: HeldOutScore | null;
      usage?: Usage;
      review?: ReviewSummary | null;
    },
  ): Promise<void> {
    const fields: Record<string, string> = {};
    if (patch.stage !== undefined) fields.stage = patch.stage;
    if (patch.experimentStage !== undefined) fields.experimentStage = patch.experimentStage ?? '';
    if (patch.review !== undefined) fields.review = JSON.stringify(patch.review);
    if (patch.iteration !== undefined) fields.iteration = String(patch.iteration);
    if (patch.bestMetric !== undefined) fields.bestMetric = JSON.stringify(patch.bestMetric);
    if (patch.heldOut !== undefined) fields.heldOut = JSON.stringify(patch.heldOut);
    if (patch.usage !== undefined) fields.usage = JSON.stringify(patch.usage);
    if (Object.keys(fields).length === 0) return;
    await this.transition(runId, LIVE, null, fields);
  }

  /**
   * Changes status only when the run is in one of `from`; appends `event` in the same atomic step.
   * Returns false when the run was not in an allowed status (someone else got there first).
   */
  async transition(
    runId: string,
    from: readonly RunStatus[],
    to: RunStatus | null,
    fields: Record<string, string> = {},
    event?: NewEvent,
  ): Promise<boolean> {
    const all = to ? { ...fields, status: to } : fields;
    // A run's tenant never changes, so reading it first is race-free; only status changes need the live-run set.
    const tenant = to ? ((await this.redis.hget(this.keys.run(runId), 'tenant')) ?? 'default') : null;
    const result = await this.redis.eval(
      TRANSITION_SCRIPT,
      4,
      this.keys.run(runId),
      this.keys.events(runId),
      tenant === null ? this.keys.run(runId) : this.keys.tenantActiveRuns(tenant),
      this.keys.finishedRuns(),
      from.join(','),
      JSON.stringify(all),
      event ? serializeEvent(event) : '',
      to ?? '',
      runId,
      String(Date.now()),
    );
    return result === 1;
  }

  /**
   * Puts a finished run back in the queue to run again from `fromStage` (see RERUN_SCRIPT). The caller enqueues the
   * job with the returned id, which is unique per rerun (`<run id>.rerun-<n>`).
   */
  async requeueForRerun(runId: string, fromStage: RerunStage, limits: RunLimits = {}): Promise<RerunResult> {
    const tenant = await this.redis.hget(this.keys.run(runId), 'tenant');
    if (tenant === null) return { ok: false, reason: 'not_found' };
    const event = serializeEvent({
      type: 'run.requeued',
      message: `Rerun requested from the ${fromStage} stage.`,
      data: { reason: `rerun from ${fromStage}`, rerunFrom: fromStage },
    });
    const result = (await this.redis.eval(
      RERUN_SCRIPT,
      4,
      this.keys.run(runId),
      this.keys.events(runId),
      this.keys.tenantActiveRuns(tenant),
      this.keys.finishedRuns(),
      String(limits.maxActiveRuns ?? 0),
      event,
      runId,
      fromStage,
    )) as string;
    const [outcome, value = ''] = result.split('|') as [string, string | undefined];
    if (outcome === 'ok') return { ok: true, jobId: value };
    if (outcome === 'live') return { ok: false, reason: 'not_finished', status: value as RunStatus };
    if (outcome === 'limit') return { ok: false, reason: 'too_many_active_runs', active: Number(value) };
    return { ok: false, reason: 'not_found' };
  }

  /** The id of the run's current BullMQ job: the run id, or `<run id>.rerun-<n>` after a rerun. */
  async jobId(runId: string): Promise<string> {
    return (await this.redis.hget(this.keys.run(runId), 'jobId')) || runId;
  }

  /** The stage the latest rerun started from, or null if the run was never rerun. */
  async rerunFrom(runId: string): Promise<RerunStage | null> {
    return ((await this.redis.hget(this.keys.run(runId), 'rerunFrom')) || null) as RerunStage | null;
  }

  /** How many live (queued or running) runs the tenant has. */
  async activeRunCount(tenant: string): Promise<number> {
    return this.redis.scard(this.keys.tenantActiveRuns(tenant));
  }

  /** The run's status and last event id (archived or not), read in one atomic step (null when there is no such run). */
  async tail(runId: string): Promise<{ status: RunStatus; lastEventId: string } | null> {
    const [[, status], [, through], [, last]] = (await this.redis
      .multi()
      .hget(this.keys.run(runId), 'status')
      .hget(this.keys.run(runId), 'archivedThrough')
      .xrevrange(this.keys.events(runId), '+', '-', 'COUNT', 1)
      .exec()) as [[unknown, string | null], [unknown, string | null], [unknown, [string, string[]][]]];
    if (!status) return null;
    return { status: status as RunStatus, lastEventId: latestId(last[0]?.[0], through) };
  }

  /**
   * Marks the run started by a worker (the first start time is kept across resumes); false if it is not queued or
   * running (cancelled meanwhile, for example).
   */
  async markStarted(runId: string, attempt: number, event: NewEvent): Promise<boolean> {
    const run = await this.get(runId);
    const fields: Record<string, string> = { attempt: String(attempt) };
    if (!run?.startedAt) fields.startedAt = new Date().toISOString();
    return this.transition(runId, LIVE, 'running', fields, event);
  }

  /** Final status and the final `run.finished` event, atomically and only once. */
  async finish(
    runId: string,
    status: (typeof FINAL)[number],
    error: RunError | null,
    message: string,
    /** What a succeeded run reports on top (the gain over the starting code). */
    extra: { startingCode?: StartingCodeGain | null } = {},
  ): Promise<boolean> {
    const run = await this.get(runId);
    if (!run || isFinalStatus(run.status)) return false;
    return this.transition(
      runId,
      LIVE,
      status,
      { finishedAt: new Date().toISOString(), error: JSON.stringify(error) },
      { type: 'run.finished', message, data: { status, error, usage: run.usage, ...extra } },
    );
  }

  async appendEvent(runId: string, event: NewEvent): Promise<string> {
    return (await this.redis.xadd(this.keys.events(runId), '*', 'e', serializeEvent(event))) as string;
  }

  /**
   * Events after `afterId` (exclusive; `0` = from the start) up to `untilId` (inclusive), oldest first, at most
   * `count`. Events up to the run's `archivedThrough` id come from the archive, later ones from the stream: the
   * archiver trims exactly those from the stream in the same atomic step in which it sets `archivedThrough`, and both
   * are read here in one step, so a page never misses or repeats an event while a trim happens.
   */
  async readEvents(runId: string, afterId: string, count: number, untilId = '+'): Promise<RunEvent[]> {
    const start = afterId === '0' ? '-' : `(${afterId}`;
    const [[, through], [, entries]] = (await this.redis
      .multi()
      .hget(this.keys.run(runId), 'archivedThrough')
      .xrange(this.keys.events(runId), start, untilId, 'COUNT', count)
      .exec()) as [[unknown, string | null], [unknown, [string, string[]][]]];
    const live = entries.map(([id, fields]) => parseEvent(runId, id, fields));
    if (!through || compareStreamIds(afterId, through) >= 0) return live;
    const archived = (await this.archivedEvents(runId, through)).filter(
      (event) =>
        compareStreamIds(event.id, afterId) > 0 &&
        compareStreamIds(event.id, through) <= 0 &&
        (untilId === '+' || compareStreamIds(event.id, untilId) <= 0),
    );
    return [...archived.slice(0, count), ...live].slice(0, count);
  }

  /** The archived events of a run, as they were up to `through` (the archive file may already hold more). */
  private async archivedEvents(runId: string, through: string): Promise<RunEvent[]> {
    if (!this.archive) throw new RunArchiveUnavailableError(runId);
    return (await this.archiveCache.fetch(`${runId} ${through}`, { context: runId }))!;
  }

  private async readArchive(runId: string): Promise<RunEvent[]> {
    const entries = await readArchivedEvents(this.archive!, runId);
    // The archive is written before `archivedThrough` is set; a missing file is a damaged store, not an empty log.
    if (!entries) throw new Error(`the archived events of ${runId} are missing from the run archive store`);
    return entries.map(([id, entry]) => parseEvent(runId, id, ['e', entry]));
  }

  async lastEventId(runId: string): Promise<string> {
    const [[, through], [, last]] = (await this.redis
      .multi()
      .hget(this.keys.run(runId), 'archivedThrough')
      .xrevrange(this.keys.events(runId), '+', '-', 'COUNT', 1)
      .exec()) as [[unknown, string | null], [unknown, [string, string[]][]]];
    return latestId(last[0]?.[0], through);
  }

  /**
   * Saves one checkpoint write of the engine (the head and the nodes new since the last write) in one atomic step,
   * but only for the attempt that currently owns the run: a worker that lost its job (its lock expired and another
   * worker took over) gets an error instead of overwriting the new owner's state.
   */
  async saveCheckpoint(runId: string, write: CheckpointWrite, attempt: number): Promise<void> {
    const nodes = Object.entries(write.nodes).flat();
    const saved = await this.redis.eval(
      SAVE_CHECKPOINT_SCRIPT,
      3,
      this.keys.run(runId),
      this.keys.checkpoint(runId),
      this.keys.checkpointNodes(runId),
      String(attempt),
      write.head,
      write.replace ? '1' : '0',
      ...nodes,
    );
    if (saved !== 1) throw new RunSupersededError(runId, attempt);
  }

  /**
   * The checkpoint as the engine saved it (its head and its nodes, read together), or null. A checkpoint of a worker
   * from before per-node storage comes back as `{ head: <the whole state>, nodes: {} }`; the engine reads both. A
   * finished run whose checkpoint was archived (RunArchiver) has it read from the archive store.
   */
  async loadCheckpoint(runId: string): Promise<StoredCheckpoint | null> {
    const [[, raw], [, nodes], [, archived]] = (await this.redis
      .multi()
      .get(this.keys.checkpoint(runId))
      .hgetall(this.keys.checkpointNodes(runId))
      .hget(this.keys.run(runId), 'stateArchived')
      .exec()) as [[unknown, string | null], [unknown, Record<string, string>], [unknown, string | null]];
    if (raw) return parseCheckpoint({ head: raw, nodes });
    if (!archived) return null;
    // A finished run whose state went to the archive (a rerun of it resumes from there).
    if (!this.archive) throw new RunArchiveUnavailableError(runId);
    const state = await readArchivedState(this.archive, runId);
    if (!state) throw new Error(`the archived state of ${runId} is missing from the run archive store`);
    return parseCheckpoint(state);
  }
}

function parseCheckpoint(stored: ArchivedState): StoredCheckpoint {
  return {
    head: JSON.parse(stored.head),
    nodes: Object.fromEntries(Object.entries(stored.nodes).map(([id, json]) => [id, JSON.parse(json)])),
  };
}

/** The later of the stream's last id and the archived-through id (either may be absent). */
function latestId(streamLast: string | undefined, through: string | null): string {
  const last = streamLast ?? '0';
  return through && compareStreamIds(through, last) > 0 ? through : last;
}

export function serializeEvent(event: NewEvent): string {
  return JSON.stringify({ ...event, time: new Date().toISOString() });
}

export function parseEvent(runId: string, id: string, fields: string[]): RunEvent {
  const json = fields[fields.indexOf('e') + 1] ?? '{}';
  return { id, runId, ...JSON.parse(json) } as RunEvent;
}

function parseRun(h: Record<string, string>): StoredRun {
  return {
    id: h.id!,
    // Runs stored before evolve mode existed were research runs.
    mode: h.mode === 'evolve' ? 'evolve' : 'research',
    goal: h.goal ?? '',
    status: h.status as RunStatus,
    stage: (h.stage || null) as RunStage | null,
    iteration: Number(h.iteration ?? 0),
    maxIterations: Number(h.maxIterations ?? 0),
    model: h.model ?? '',
    // Runs stored before roles existed used their one model for every role.
    models: JSON.parse(h.models ?? 'null') ?? sameModelForEveryRole(h.model ?? ''),
    budgetUsd: h.budgetUsd ? Number(h.budgetUsd) : null,
    timeLimitMinutes: Number(h.timeLimitMinutes ?? 0),
    // Runs stored before sandbox images existed ran in the built-in one.
    sandbox: { image: DEFAULT_SANDBOX_IMAGE, ...JSON.parse(h.sandbox ?? '{}') },
    policy: { ...DEFAULT_POLICY, ...JSON.parse(h.policy ?? 'null') },
    tenant: h.tenant ?? 'default',
    inputs: JSON.parse(h.inputs ?? '{}'),
    experimentStage: (h.experimentStage || null) as ExperimentStage | null,
    review: JSON.parse(h.review ?? 'null'),
    bestMetric: JSON.parse(h.bestMetric ?? 'null'),
    heldOut: JSON.parse(h.heldOut ?? 'null'),
    // Records written before a field existed (cachedTokens, estimatedTokens) read it as 0.
    usage: { ...emptyUsage(), ...JSON.parse(h.usage ?? '{}') },
    attempt: Number(h.attempt ?? 0),
    createdAt: h.createdAt ?? '',
    startedAt: h.startedAt || null,
    finishedAt: h.finishedAt || null,
    error: JSON.parse(h.error ?? 'null'),
  };
}

const sameModelForEveryRole = (model: string): RunModels => ({
  code: model,
  judge: model,
  writeup: model,
  review: model,
  ideas: model,
  vision: null,
});

/** JSON with object keys sorted, so equal requests hash equally however their keys were ordered. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The policy of a run stored before policies existed: the request defaults. */
const DEFAULTS = CreateRunRequest.parse({ goal: 'defaults only, never stored' });
const DEFAULT_POLICY: StoredRun['policy'] = {
  maxTokens: null,
  search: DEFAULTS.search,
  ideation: DEFAULTS.ideation,
  review: DEFAULTS.review,
  seeds: DEFAULTS.seeds,
  pageLimit: DEFAULTS.pageLimit,
  lessons: DEFAULTS.lessons,
  evolve: null,
  searchTuning: [],
};

const truncate = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** Compares Redis stream ids (`ms-seq`). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number) as [number, number];
  const [bm, bs] = b.split('-').map(Number) as [number, number];
  return am !== bm ? am - bm : (as ?? 0) - (bs ?? 0);
}

export { FINAL as FINAL_STATUS_LIST, LIVE as LIVE_STATUS_LIST };
