import type { Hint, RunEvent } from '@autolab/contracts';
import { type FormEvent, useEffect, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { toProblem } from '../lib/api.js';

/** Send the agent guidance for its next step; lists the run's hints and where each was applied. */
export function HintBox({ runId, events, live }: { runId: string; events: RunEvent[]; live: boolean }) {
  const { client } = useApi();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [hints, setHints] = useState<Hint[]>([]);
  const [sent, setSent] = useState(0);
  // Refetch when a hint event arrives (received / applied) or after sending one.
  const hintEvents = events.filter((e) => e.type === 'hint.received' || e.type === 'hint.applied').length;

  // biome-ignore lint/correctness/useExhaustiveDependencies: hintEvents and sent are refetch triggers
  useEffect(() => {
    let cancelled = false;
    client
      .listHints(runId)
      .then(({ hints }) => {
        if (!cancelled) setHints(hints);
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [client, runId, hintEvents, sent]);

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    setBusy(true);
    setMessage(null);
    try {
      await client.createHint(runId, text);
      setText('');
      setSent((n) => n + 1);
      setMessage({ ok: true, text: 'Sent. The agent reads it before its next step.' });
    } catch (err) {
      setMessage({ ok: false, text: toProblem(err).message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="hints">
      {live && (
        <form className="hint-form" onSubmit={send}>
          <input
            type="text"
            aria-label="Hint for the agent"
            placeholder="e.g. try a smaller learning rate"
            maxLength={2000}
            value={text}
            onChange={(e) => setText(e.target.value)}
          />
          <button type="submit" className="btn" disabled={busy || !text.trim()}>
            {busy ? 'Sending…' : 'Send hint'}
          </button>
        </form>
      )}
      {message && live && <p className={message.ok ? 'note note-ok' : 'field-error'}>{message.text}</p>}
      {hints.length > 0 && (
        <ul className="hint-list" data-testid="hints">
          {hints.map((h) => (
            <li key={h.id}>
              <span>“{h.text}”</span>{' '}
              <span className={h.appliedAt ? 'pill pill-ok' : 'pill pill-soft'}>
                {h.appliedAt ? `applied${h.appliedTo ? ` to ${h.appliedTo}` : ''}` : 'pending'}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
