import { useState } from 'react';
import { ModelCalls } from './ModelCalls.js';

const everyCall = () => true;

/** Every model call of the run, loaded when first opened (the transcript of a long run is large), then kept. */
export function RunModelCalls({ runId, calls }: { runId: string; calls: number }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="run-model-calls" onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>Show the prompt and the reply of each call</summary>
      {open && (
        <ModelCalls
          runId={runId}
          filter={everyCall}
          modelCalls={calls}
          empty="No model call is in the transcript yet."
        />
      )}
    </details>
  );
}
