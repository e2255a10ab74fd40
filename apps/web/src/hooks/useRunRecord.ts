import type { RunRecord } from '@autolab/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { useApi } from './api-context.js';

/** The run record; refetched (debounced) whenever `trigger` changes, and every 5 s while the run is live. */
export function useRunRecord(runId: string, trigger: unknown) {
  const { client } = useApi();
  const [run, setRun] = useState<RunRecord | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const inFlight = useRef(false);

  const reload = useCallback(async () => {
    if (inFlight.current) return;
    inFlight.current = true;
    try {
      setRun(await client.getRun(runId));
      setProblem(null);
    } catch (err) {
      setProblem(toProblem(err));
    } finally {
      inFlight.current = false;
    }
  }, [client, runId]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: trigger is the point of this effect
  useEffect(() => {
    const timer = setTimeout(reload, 250);
    return () => clearTimeout(timer);
  }, [reload, trigger]);

  const live = !run || run.status === 'queued' || run.status === 'running';
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(reload, 5000);
    return () => clearInterval(timer);
  }, [live, reload]);

  return { run, problem, reload };
}
