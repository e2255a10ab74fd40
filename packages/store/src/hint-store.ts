import type { Hint } from '@autolab/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import { newRunId } from './run-id.js';
import { serializeEvent } from './run-store.js';

/** Hints one run may collect; more gets `HintLimitError`. */
export const MAX_HINTS_PER_RUN = 100;

export class HintRunNotFoundError extends Error {
  constructor(readonly runId: string) {
    super(`there is no run ${runId}`);
    this.name = this.constructor.name;
  }
}

/** Hints only reach a live run: after `run.finished` nothing may be appended. */
export class HintRunFinishedError extends Error {
  constructor(
    readonly runId: string,
    readonly status: string,
  ) {
    super(`run ${runId} has already finished (${status})`);
    this.name = this.constructor.name;
  }
}

export class HintLimitError extends Error {
  constructor(readonly runId: string) {
    super(`run ${runId} already has ${MAX_HINTS_PER_RUN} hints`);
    this.name = this.constructor.name;
  }
}

// Adds a hint and its 'hint.received' event in one step, and only while the run is live, so the event can never
// land after the run's 'run.finished'.
const ADD_SCRIPT = `
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 'missing' end
if status ~= 'queued' and status ~= 'running' then return 'final|' .. status end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return 'limit' end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('XADD', KEYS[3], '*', 'e', ARGV[3])
return 'ok'
`;

// Sets appliedAt/appliedTo the first time only.
const MARK_SCRIPT = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local hint = cjson.decode(raw)
if hint.appliedAt ~= cjson.null and hint.appliedAt ~= nil then return 0 end
hint.appliedAt = ARGV[2]
hint.appliedTo = ARGV[3]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(hint))
return 1
`;

/** Guidance people send to a live run (a hash per run: hint id → JSON); the engine folds it into its next prompt. */
export class HintStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /**
   * Stores a hint and appends `hint.received {hintId, text}`. Throws HintRunNotFoundError, HintRunFinishedError
   * (the run is final) or HintLimitError.
   */
  async add(runId: string, text: string): Promise<Hint> {
    const hint: Hint = {
      id: `hint_${newRunId().slice(4)}`,
      text,
      createdAt: new Date().toISOString(),
      appliedAt: null,
      appliedTo: null,
    };
    const event = serializeEvent({
      type: 'hint.received',
      message: `Hint received: ${text.length > 120 ? `${text.slice(0, 119)}…` : text}`,
      data: { hintId: hint.id, text },
    });
    const result = (await this.redis.eval(
      ADD_SCRIPT,
      3,
      this.keys.run(runId),
      this.keys.hints(runId),
      this.keys.events(runId),
      hint.id,
      JSON.stringify(hint),
      event,
      String(MAX_HINTS_PER_RUN),
    )) as string;
    if (result === 'missing') throw new HintRunNotFoundError(runId);
    if (result.startsWith('final|')) throw new HintRunFinishedError(runId, result.slice(6));
    if (result === 'limit') throw new HintLimitError(runId);
    return hint;
  }

  /** Every hint of the run, oldest first. */
  async list(runId: string): Promise<Hint[]> {
    const all = await this.redis.hgetall(this.keys.hints(runId));
    // Ids are time-sortable, so sorting by id is sorting by arrival.
    return Object.keys(all)
      .sort()
      .map((id) => JSON.parse(all[id]!) as Hint);
  }

  /** Records that the hint first reached the model in `step`; later calls change nothing. */
  async markApplied(runId: string, hintId: string, step: string): Promise<void> {
    await this.redis.eval(MARK_SCRIPT, 1, this.keys.hints(runId), hintId, new Date().toISOString(), step);
  }
}
