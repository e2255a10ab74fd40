import { useCallback, useEffect, useRef, useState } from 'react';
import { followEvents, type StreamState } from '../lib/event-stream.js';
import { applyEvent, emptyRunModel, type RunModel } from '../lib/run-model.js';
import { useApi } from './api-context.js';

export interface RunStream {
  model: RunModel;
  /** Bumps whenever the model changed; use it as a memo dependency. */
  version: number;
  state: StreamState;
  detail: string | null;
  /** Follows the stream again from the last event seen (after a rerun, whose events come after the end). */
  restart(): void;
}

/** Follows the run's events live; renders at most every 100 ms however fast events come. */
export function useRunStream(runId: string): RunStream {
  const { client } = useApi();
  const modelRef = useRef<{ runId: string; model: RunModel } | null>(null);
  if (modelRef.current?.runId !== runId) modelRef.current = { runId, model: emptyRunModel() };
  const model = modelRef.current.model;
  const [version, setVersion] = useState(0);
  const [state, setState] = useState<StreamState>('connecting');
  const [detail, setDetail] = useState<string | null>(null);
  const [generation, setGeneration] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: generation restarts the stream
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    const schedule = () => {
      timer ??= setTimeout(() => {
        timer = null;
        setVersion((v) => v + 1);
      }, 100);
    };
    const stream = followEvents({
      client,
      runId,
      lastEventId: model.lastEventId,
      lastEventWasFinish: model.events.at(-1)?.type === 'run.finished',
      onEvent: (event) => {
        if (applyEvent(model, event)) schedule();
      },
      onState: (s, d) => {
        setState(s);
        setDetail(d ?? null);
      },
    });
    return () => {
      stream.close();
      if (timer) clearTimeout(timer);
    };
  }, [runId, client, model, generation]);

  const restart = useCallback(() => setGeneration((g) => g + 1), []);
  return { model, version, state, detail, restart };
}
