import type { RerunStage } from '@autolab/contracts';
import { RERUN_STAGES } from '@autolab/contracts/stages';
import { useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { toProblem } from '../lib/api.js';

/** Runs a finished run again from a stage (a new attempt of the same run, keeping what came before). */
export function RerunControl({ runId, onDone }: { runId: string; onDone: () => void }) {
  const { client } = useApi();
  const [open, setOpen] = useState(false);
  const [stage, setStage] = useState<RerunStage>('writeup');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const rerun = async () => {
    setBusy(true);
    setError(null);
    try {
      await client.rerun(runId, stage);
      setOpen(false);
      onDone();
    } catch (err) {
      setError(toProblem(err).message);
    } finally {
      setBusy(false);
    }
  };
  if (!open) {
    return (
      <button type="button" className="btn" onClick={() => setOpen(true)}>
        Rerun…
      </button>
    );
  }
  return (
    <span className="rerun">
      <label className="rerun-label">
        from
        <select value={stage} onChange={(e) => setStage(e.target.value as RerunStage)} aria-label="Rerun from stage">
          {RERUN_STAGES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <button type="button" className="btn btn-primary" disabled={busy} onClick={() => void rerun()}>
        {busy ? 'Starting…' : 'Rerun'}
      </button>
      <button type="button" className="btn btn-ghost" onClick={() => setOpen(false)}>
        Close
      </button>
      {error && <span className="field-error">{error}</span>}
    </span>
  );
}
