import type { RunRecord } from '@autolab/contracts';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useApi } from '../hooks/api-context.js';
import { type ApiProblem, toProblem } from '../lib/api.js';
import { comparePath, MAX_COMPARED, navigate } from '../lib/router.js';
import { Link } from './Link.js';
import { ProblemNote } from './ProblemNote.js';
import { RunRow } from './RunRow.js';

const PAGE_SIZE = 20;

/** Runs, newest first, a page at a time; the first page refreshes itself while runs are live. */
export function RunsPage() {
  const { client } = useApi();
  const [runs, setRuns] = useState<RunRecord[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const pages = useRef(0);
  const [picked, setPicked] = useState<string[]>([]);

  const load = useCallback(
    async (after: string | null) => {
      setLoading(true);
      try {
        const data = await client.listRuns({ limit: PAGE_SIZE, ...(after ? { cursor: after } : {}) });
        setProblem(null);
        const page = data.runs;
        if (after) {
          pages.current++;
          setCursor(data.nextCursor);
          setRuns((old) => {
            const ids = new Set(old.map((r) => r.id));
            return [...old, ...page.filter((r) => !ids.has(r.id))];
          });
        } else {
          // A refresh of the first page keeps the older pages already loaded below it.
          if (pages.current <= 1) setCursor(data.nextCursor);
          pages.current = Math.max(1, pages.current);
          setRuns((old) => {
            const fresh = new Set(page.map((r) => r.id));
            const older = old.slice(PAGE_SIZE).filter((r) => !fresh.has(r.id));
            return [...page, ...older];
          });
        }
      } catch (err) {
        setProblem(toProblem(err));
      } finally {
        setLoading(false);
      }
    },
    [client],
  );

  useEffect(() => {
    void load(null);
  }, [load]);

  const live = runs.some((r) => r.status === 'queued' || r.status === 'running');
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => void load(null), 3000);
    return () => clearInterval(timer);
  }, [live, load]);

  return (
    <section>
      <div className="page-head">
        <div>
          <h1>Runs</h1>
          <p className="muted">Research runs, newest first.</p>
        </div>
        <div className="page-actions">
          <button
            type="button"
            className="btn"
            disabled={picked.length < 2}
            title={picked.length < 2 ? 'Tick two or more runs to compare them' : undefined}
            onClick={() => navigate(comparePath(picked))}
          >
            Compare{picked.length > 0 ? ` (${picked.length})` : ''}
          </button>
          <Link to="/new" className="btn btn-primary">
            New run
          </Link>
        </div>
      </div>
      {problem && <ProblemNote problem={problem} />}
      {runs.length === 0 && !loading && !problem && (
        <div className="empty card">
          <h2>No runs yet</h2>
          <p className="muted">Submit a research goal and watch the agent work on it here.</p>
          <Link to="/new" className="btn btn-primary">
            Start a run
          </Link>
        </div>
      )}
      {runs.length > 0 && (
        <div className="card table-card">
          <table className="runs-table">
            <thead>
              <tr>
                <th className="pick-cell">
                  <span className="visually-hidden">Compare</span>
                </th>
                <th>Goal</th>
                <th>Status</th>
                <th>Stage</th>
                <th>Iteration</th>
                <th>Best metric</th>
                <th>Cost / budget</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((run) => (
                <RunRow
                  key={run.id}
                  run={run}
                  picked={picked.includes(run.id)}
                  onPick={(on) =>
                    setPicked((ids) =>
                      on
                        ? [...ids.filter((id) => id !== run.id), run.id].slice(-MAX_COMPARED)
                        : ids.filter((id) => id !== run.id),
                    )
                  }
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div className="list-foot">
        {cursor && (
          <button type="button" className="btn" disabled={loading} onClick={() => void load(cursor)}>
            {loading ? 'Loading…' : 'Load more'}
          </button>
        )}
        {loading && runs.length === 0 && <span className="muted">Loading…</span>}
      </div>
    </section>
  );
}
