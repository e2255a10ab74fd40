import { type Principal, RUN_ID_PATTERN, type RunRecord } from '@autolab/contracts';
import type { RunStore, StoredRun } from '@autolab/store';
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
