import type { RunEvent } from '@autolab/contracts';
import { useMemo, useState } from 'react';
import { formatTime } from '../lib/format.js';

const GROUPS: Record<string, (type: string) => boolean> = {
  all: (t) => t !== 'exec.output',
  nodes: (t) => t.startsWith('node.') || t === 'metric.improved',
  stages: (t) => t.startsWith('stage.') || t.startsWith('run.') || t === 'search.stage' || t === 'plan.ready',
  model: (t) =>
    t === 'cost.updated' ||
    t.startsWith('idea.') ||
    t.startsWith('literature.') ||
    t.startsWith('hint.') ||
    t.startsWith('lessons.'),
  problems: (t) => t === 'error' || t === 'warning' || t === 'paper.compile_failed',
  output: (t) => t === 'exec.output',
};
const SHOWN = 400;

/** Tone of a row, from its type (unknown types are plain). */
function tone(event: RunEvent): string {
  const t = event.type as string;
  if (t === 'error' || t === 'paper.compile_failed') return 'danger';
  if (t === 'warning') return 'warn';
  if (t === 'node.finished') return (event.data as { buggy?: boolean }).buggy ? 'danger' : 'ok';
  if (t === 'metric.improved' || t === 'paper.ready') return 'ok';
  if (t === 'run.finished') return (event.data as { status?: string }).status === 'succeeded' ? 'ok' : 'danger';
  return 'plain';
}

/** Every event as a line: time, type, message. Filter by group or text; newest at the top. */
export function EventLog({ events, version }: { events: RunEvent[]; version: number }) {
  const [group, setGroup] = useState('all');
  const [query, setQuery] = useState('');
  // biome-ignore lint/correctness/useExhaustiveDependencies: `events` is mutated in place; version says it changed
  const shown = useMemo(() => {
    const test = GROUPS[group] ?? GROUPS.all!;
    const q = query.trim().toLowerCase();
    const out: RunEvent[] = [];
    for (let i = events.length - 1; i >= 0 && out.length < SHOWN; i--) {
      const e = events[i]!;
      if (!test(e.type)) continue;
      if (q && !`${e.type} ${e.message}`.toLowerCase().includes(q)) continue;
      out.push(e);
    }
    return out;
  }, [events, version, group, query]);
  return (
    <div className="event-log" data-testid="event-log">
      <div className="log-controls">
        <div className="segmented" role="radiogroup" aria-label="Event group">
          {Object.keys(GROUPS).map((g) => (
            // biome-ignore lint/a11y/useSemanticElements: a segmented control of buttons
            <button
              key={g}
              type="button"
              role="radio"
              aria-checked={group === g}
              className={group === g ? 'active' : ''}
              onClick={() => setGroup(g)}
            >
              {g}
            </button>
          ))}
        </div>
        <input
          type="search"
          placeholder="Filter…"
          aria-label="Filter events"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
      </div>
      <ol className="log-rows">
        {shown.length === 0 && <li className="muted log-empty">No events.</li>}
        {shown.map((e) => (
          <li key={e.id} className={`log-row log-${tone(e)}`} data-type={e.type}>
            <time dateTime={e.time}>{formatTime(e.time)}</time>
            <span className="log-type">{e.type}</span>
            <span className="log-message">
              {e.type === 'exec.output' ? (e.data as { text: string }).text : e.message}
            </span>
          </li>
        ))}
      </ol>
    </div>
  );
}
