import type { StreamState } from '../lib/event-stream.js';

const LABELS: Record<StreamState, string> = {
  connecting: 'connecting…',
  live: 'live',
  reconnecting: 'reconnecting…',
  finished: 'complete',
  error: 'stream error',
  closed: 'closed',
};

/** The state of the event stream. */
export function LiveIndicator({ state, detail }: { state: StreamState; detail: string | null }) {
  return (
    <span className={`live live-${state}`} title={detail ?? undefined} data-stream-state={state}>
      <span className="live-dot" aria-hidden="true" />
      {LABELS[state]}
      {state === 'error' && detail ? `: ${detail}` : ''}
    </span>
  );
}
