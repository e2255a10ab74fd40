import { type Principal, RUN_ID_PATTERN, type RunRecord } from '@autolab/contracts';
import { type RunStore, type StoredRun, writeTogether } from '@autolab/store';
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
export async function loadRun(
  runs: RunStore,
  id: string,
  principal: Principal,
  early?: Promise<StoredRun | null>,
): Promise<StoredRun> {
  const run = RUN_ID_PATTERN.test(id) ? await (early ?? runs.get(id)) : null;
  if (!run || !canSee(principal, run)) throw runNotFound(id);
  return run;
}

const earlyReads = new WeakMap<FastifyRequest, Promise<StoredRun | null>>();

/**
 * A route-level `onRequest` hook for `GET /v1/runs/:id`: starts reading the run while the rate limit's hook (which
 * follows it) counts the request, so the two Redis commands travel together instead of one after the other. Only
 * for a caller the auth plugin has already identified (a usable key): unknown callers cost Redis nothing more.
 * What is read is only ever answered through `loadRun` (tenant check) in the handler, which runs only if the limit
 * and the route's scope let the request through; otherwise the read is dropped.
 */
export const readRunEarly = (runs: RunStore, redis: Redis) => async (request: FastifyRequest) => {
  const id = (request.params as { id?: unknown }).id;
  if (!request.principal || typeof id !== 'string' || !RUN_ID_PATTERN.test(id)) return;
  // The read and the limit's script leave in one socket write.
  writeTogether(redis);
  const read = runs.get(id);
  read.catch(() => undefined); // answered (or dropped) later; a failure is raised where it is awaited
  earlyReads.set(request, read);
};

/** The read `readRunEarly` started for this request, if any. */
export const earlyRunRead = (request: FastifyRequest) => earlyReads.get(request);
