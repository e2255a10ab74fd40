import { useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { toProblem } from '../lib/api.js';

/** Cancel in two clicks (no browser dialog); the run confirms with `run.finished: cancelled`. */
export function CancelButton({ runId, onDone }: { runId: string; onDone: () => void }) {
  const { client } = useApi();
  const [armed, setArmed] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const cancel = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.cancelRun(runId);
      onDone();
    } catch (err) {
      setError(toProblem(err).message);
    } finally {
      setBusy(false);
      setArmed(false);
    }
  };
  return (
    <span className="cancel">
      {armed ? (
        <>
          <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void cancel()}>
            {busy ? 'Cancelling…' : 'Yes, cancel the run'}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => setArmed(false)}>
            Keep running
          </button>
        </>
      ) : (
        <button type="button" className="btn btn-danger-outline" onClick={() => setArmed(true)}>
          Cancel run
        </button>
      )}
      {error && <span className="field-error">{error}</span>}
    </span>
  );
}
