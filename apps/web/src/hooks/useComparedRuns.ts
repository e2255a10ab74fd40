import type { RunRecord } from '@autolab/contracts';
import { useEffect, useState } from 'react';
import { type ApiClient, type ApiProblem, toProblem } from '../lib/api.js';
import { applyEvent, emptyRunModel, type RunModel } from '../lib/run-model.js';
import { useApi } from './api-context.js';

export interface ComparedRun {
  id: string;
  run: RunRecord | null;
  /** The run's events folded as the run page folds them (the tree, the metrics, the plan). */
  model: RunModel | null;
  problem: ApiProblem | null;
}

/** Reads every event of a run as JSON pages (a snapshot: the compare view does not follow live runs). */
async function loadModel(client: ApiClient, id: string): Promise<RunModel> {
  const model = emptyRunModel();
  let after: string | undefined;
  for (let page = 0; page < 200; page++) {
    const data = await client.eventPageAsSent(id, { limit: 1000, ...(after ? { after } : {}) });
    for (const event of data.events) applyEvent(model, event);
    if (!data.next || data.events.length === 0) break;
    after = data.next;
  }
  return model;
}

/** The runs to compare: each one's record and folded events, loaded once (again when the ids or the key change). */
export function useComparedRuns(ids: readonly string[]): { runs: ComparedRun[]; loading: boolean } {
  const { client } = useApi();
  const [runs, setRuns] = useState<ComparedRun[]>([]);
  const [loading, setLoading] = useState(true);
  const key = ids.join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for the ids
  useEffect(() => {
    let cancelled = false;
    setLoading(true);
    Promise.all(
      ids.map(async (id): Promise<ComparedRun> => {
        try {
          return { id, run: await client.getRun(id), model: await loadModel(client, id), problem: null };
        } catch (err) {
          return { id, run: null, model: null, problem: toProblem(err) };
        }
      }),
    ).then((loaded) => {
      if (cancelled) return;
      setRuns(loaded);
      setLoading(false);
    });
    return () => {
      cancelled = true;
    };
  }, [client, key]);
  return { runs, loading };
}
