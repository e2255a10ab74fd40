import { type Principal, RUN_ID_PATTERN, type RunRecord } from '@autolab/contracts';
import { type RunStore, type StoredRun, TrackedReads } from '@autolab/store';
import type { FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { ApiError } from './errors.js';

export function toRunRecord(run: StoredRun): RunRecord {
  const self = `/v1/runs/${run.id}`;
  return {
    ...run,
    links: {
      self,
      dashboard: `/runs/${run.id}`,
      events: `${self}/events`,
      artifacts: `${self}/artifacts`,
      archive: `${self}/archive`,
      cancel: `${self}/cancel`,
    },
  };
}

export const runNotFound = (id: string) =>
  new ApiError('run_not_found', `There is no run with id ${JSON.stringify(id.slice(0, 80))}.`);

/** Whether the caller may see the run: its own tenant's, or any with an admin key. */
export const canSee = (principal: Principal, run: Pick<StoredRun, 'tenant'>) =>
  principal.admin || run.tenant === principal.tenant;

/**
 * The run, or a 404 — also for strings that cannot be run ids, so ids are never a 400/500 oracle, and for another
 * tenant's run, so a tenant cannot even learn that a run id exists.
 */
export async function loadRun(runs: RunStore, id: string, principal: Principal): Promise<StoredRun> {
  const run = RUN_ID_PATTERN.test(id) ? await runs.get(id) : null;
  if (!run || !canSee(principal, run)) throw runNotFound(id);
  return run;
}

/** A run as `GET /v1/runs/:id` answers it, and that answer's JSON once it has been written. */
export interface CachedRun {
  run: StoredRun;
  body?: string;
}

/** How many run records each API process keeps, and how long at most without hearing from Redis. */
const RUN_CACHE_ENTRIES = 10_000;
const RUN_CACHE_MAX_AGE_MS = 10_000;

/**
 * Run records for `GET /v1/runs/:id`, kept between reads until Redis reports that the run's hash changed
 * (`TrackedReads`: any writer, the worker's progress included, invalidates at once), each with its answer's JSON, written
 * once per version of the record. Pollers of a run cost Redis nothing while it does not change.
 */
export class RunRecordCache {
  /** Opened at the first read: an app built only for its OpenAPI document connects to nothing. */
  private reads: TrackedReads<CachedRun> | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly runs: RunStore,
  ) {}

  get(id: string): Promise<CachedRun | null> {
    this.reads ??= new TrackedReads(this.redis, {
      maxEntries: RUN_CACHE_ENTRIES,
      maxAgeMs: RUN_CACHE_MAX_AGE_MS,
      name: 'autolab-api-runs',
    });
    return this.reads.read(this.runs.keys.run(id), async (reader) => {
      const run = await this.runs.get(id, reader);
      return run && { run };
    });
  }

  /** After this process changed the run: its own next read must not race Redis's message. */
  forget(id: string): void {
    this.reads?.forget(this.runs.keys.run(id));
  }

  async close(): Promise<void> {
    await this.reads?.close();
  }
}

const earlyReads = new WeakMap<FastifyRequest, Promise<CachedRun | null>>();

/**
 * A route-level `onRequest` hook for `GET /v1/runs/:id`: starts reading the run while the rate limit's hook (which
 * follows it) counts the request, so a read that misses the cache and the limit's command are in flight together.
 * Only for a caller the auth plugin has already identified (a usable key): unknown callers cost Redis nothing more.
 * What is read is only ever answered after the tenant check (`cachedRunFor`), in the handler, which runs only if the
 * limit and the route's scope let the request through; otherwise the read is dropped.
 */
export const readRunEarly = (cache: RunRecordCache) => async (request: FastifyRequest) => {
  const id = (request.params as { id?: unknown }).id;
  if (!request.principal || typeof id !== 'string' || !RUN_ID_PATTERN.test(id)) return;
  const read = cache.get(id);
  read.catch(() => undefined); // answered (or dropped) later; a failure is raised where it is awaited
  earlyReads.set(request, read);
};

/** The run as `GET /v1/runs/:id` answers it (the read `readRunEarly` started, if any), or a 404 as `loadRun`. */
export async function cachedRunFor(
  cache: RunRecordCache,
  request: FastifyRequest,
  id: string,
  principal: Principal,
): Promise<CachedRun> {
  const cached = RUN_ID_PATTERN.test(id) ? await (earlyReads.get(request) ?? cache.get(id)) : null;
  if (!cached || !canSee(principal, cached.run)) throw runNotFound(id);
  return cached;
}
