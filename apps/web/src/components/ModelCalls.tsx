import { useMemo } from 'react';
import { useTranscript } from '../hooks/useTranscript.js';
import { formatUsd } from '../lib/format.js';
import { callTotals, type ModelCall } from '../lib/transcript.js';
import { CodeBlock } from './CodeBlock.js';

/**
 * The model calls of the run's transcript (`transcript.jsonl`) that `filter` keeps: each with its purpose, model,
 * tokens and cost, and, opened, the prompt and the reply, as text. The transcript is read once per run and kept
 * (see `useTranscript`), and read again when the run's count of model calls (`modelCalls`) grows. It is written in
 * chunks a few seconds apart, so the newest calls of a live run show up a little later than their events.
 */
export function ModelCalls({
  runId,
  filter,
  modelCalls,
  empty,
}: {
  runId: string;
  filter: (call: ModelCall) => boolean;
  modelCalls: number;
  empty: string;
}) {
  const text = useTranscript(runId, modelCalls);
  const calls = useMemo(() => (text.state === 'ready' ? text.calls.filter(filter) : []), [text, filter]);
  if (text.state === 'loading') return <p className="muted">Loading the transcript…</p>;
  if (text.state === 'error') {
    return (
      <p className="muted">
        {text.status === 404
          ? 'The transcript is written a few seconds after the first model call.'
          : `Could not load the transcript: ${text.message}`}
      </p>
    );
  }
  if (calls.length === 0) return <p className="muted">{empty}</p>;
  const totals = callTotals(calls);
  return (
    <div className="model-calls" data-testid="model-calls">
      <p className="small muted">
        {calls.length} call{calls.length === 1 ? '' : 's'}, {totals.tokens.toLocaleString('en-US')} tokens,{' '}
        {formatUsd(totals.costUsd)}
      </p>
      {calls.map((call) => (
        <details key={call.index} className="model-call" data-purpose={call.purpose}>
          <summary>
            <span className="pill">{call.purpose}</span>
            {call.nodeId && <span className="pill pill-soft">{call.nodeId}</span>}
            <span className="mono">{call.tool ?? 'no tool call'}</span>
            <span className="faint small call-usage">
              {call.model} · {call.promptTokens.toLocaleString('en-US')}
              {call.cachedTokens > 0 ? ` (${call.cachedTokens.toLocaleString('en-US')} cached)` : ''}+
              {call.completionTokens.toLocaleString('en-US')} tokens{call.estimated ? ' (estimated)' : ''} ·{' '}
              {formatUsd(call.costUsd)}
              {call.attempts > 1 ? ` · ${call.attempts} attempts` : ''}
            </span>
          </summary>
          {call.retryOf && <p className="small text-failed">Asked again: {call.retryOf}</p>}
          {call.error && <p className="small text-failed">Unusable reply: {call.error}</p>}
          <h4>Prompt</h4>
          <CodeBlock text={call.system ? `${call.system}\n\n${call.prompt}` : call.prompt} wrap />
          <h4>Reply</h4>
          <CodeBlock text={call.reply || '(empty)'} wrap />
        </details>
      ))}
    </div>
  );
}
