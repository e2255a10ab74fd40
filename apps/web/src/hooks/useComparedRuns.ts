import type { ApiClient } from '@autolab/api-client';
import type { RunRecord } from '@autolab/contracts';
import { useEffect, useState } from 'react';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { applyEvent, emptyRunModel, type RunModel } from '../lib/run-model.js';
import { useApi } from './api-context.js';

export interface ComparedRun {
  id: string;
  run: RunRecord | null;
  /** The run's events folded as the run page folds them (the tree, the metrics, the plan). */
  model: RunModel | null;
  problem: ApiProblem | null;
}

/** How often a live run's record and new events are read again. */
export const COMPARE_POLL_MS = 3000;

/** A run that may still change: queued or running (or not read yet). */
export const isLive = (run: RunRecord | null): boolean =>
  run === null || run.status === 'queued' || run.status === 'running';

/** Reads the run's events after the last one `model` has, page by page, and folds them in. */
async function readNewEvents(client: ApiClient, id: string, model: RunModel): Promise<void> {
  for (let page = 0; page < 200; page++) {
    const data = await client.eventPageAsSent(id, {
      limit: 1000,
      ...(model.lastEventId ? { after: model.lastEventId } : {}),
    });
    for (const event of data.events) applyEvent(model, event);
    if (!data.next || data.events.length === 0) return;
  }
}

/**
 * The runs to compare: each one's record and folded events. Live runs are followed until they finish: every
 * `COMPARE_POLL_MS` their record is read again and only the events after the last one seen.
 */
export function useComparedRuns(ids: readonly string[]): { runs: ComparedRun[]; loading: boolean; live: number } {
  const { client } = useApi();
  const [runs, setRuns] = useState<ComparedRun[]>([]);
  const [loading, setLoading] = useState(true);
  const key = ids.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the ids
  useEffect(() => {
    let cancelled = false;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const state = new Map<string, ComparedRun>(ids.map((id) => [id, { id, run: null, model: null, problem: null }]));
    const refresh = async (id: string) => {
      const current = state.get(id)!;
      try {
        const run = await client.getRun(id);
        const model = current.model ?? emptyRunModel();
        await readNewEvents(client, id, model);
        state.set(id, { id, run, model, problem: null });
      } catch (err) {
        const problem = toProblem(err);
        // A run that is not there (or not this key's) will not appear by asking again.
        const gone = problem.status === 404 || problem.status === 401 || problem.status === 403;
        state.set(id, { ...current, problem, ...(gone ? { run: null, model: null } : {}) });
      }
    };
    const following = (r: ComparedRun) =>
      isLive(r.run) && !(r.problem && r.problem.status >= 400 && r.problem.status < 500);
    const tick = async (ids: readonly string[]) => {
      await Promise.all(ids.map(refresh));
      if (cancelled) return;
      const all = [...state.values()];
      // A new array and new entries: the page's memos see the models, which are folded in place, change.
      setRuns(all.map((r) => ({ ...r })));
      setLoading(false);
      const live = all.filter(following).map((r) => r.id);
      if (live.length > 0) timer = setTimeout(() => void tick(live), COMPARE_POLL_MS);
    };
    setLoading(true);
    void tick(ids);
    return () => {
      cancelled = true;
      if (timer) clearTimeout(timer);
    };
  }, [client, key]);
  const live = runs.filter((r) => r.run && isLive(r.run)).length;
  return { runs, loading, live };
}
