import { useMemo } from 'react';
import { type ComparedRun, useComparedRuns } from '../hooks/useComparedRuns.js';
import { type CompareRow, resultRows, settingsRows } from '../lib/compare.js';
import { runPath } from '../lib/router.js';
import { nodeOutcomes, recordedMetrics } from '../lib/run-model.js';
import { Card } from './Card.js';
import { CompareChart, RUN_COLOURS } from './CompareChart.js';
import { Link } from './Link.js';
import { ProblemNote } from './ProblemNote.js';
import { StatusBadge } from './StatusBadge.js';

/** Two or more runs side by side: their metrics by iteration, their settings, their best nodes (`/compare?ids=…`). */
export function ComparePage({ ids }: { ids: string[] }) {
  const { runs, loading, live } = useComparedRuns(ids);
  const loaded = useMemo(
    () => runs.filter((r): r is ComparedRun & { run: NonNullable<ComparedRun['run']> } => !!r.run),
    [runs],
  );
  const chartRuns = useMemo(
    () => loaded.map((r) => ({ label: r.run.id, outcomes: r.model ? nodeOutcomes(r.model) : [] })),
    [loaded],
  );
  const metrics = useMemo(() => {
    const names = new Set<string>();
    for (const r of loaded) if (r.run.bestMetric) names.add(r.run.bestMetric.name);
    for (const r of chartRuns) for (const name of recordedMetrics(r.outcomes, null)) names.add(name);
    return [...names];
  }, [loaded, chartRuns]);

  if (ids.length < 2) {
    return (
      <div className="empty card">
        <h2>Choose runs to compare</h2>
        <p className="muted">Tick two or more runs in the list, then “Compare”.</p>
        <Link to="/" className="btn btn-primary">
          Back to the runs
        </Link>
      </div>
    );
  }
  return (
    <section className="compare-page" data-testid="compare-page">
      <div className="page-head">
        <div>
          <h1>Compare runs</h1>
          <p className="muted">
            {ids.length} runs side by side{loading ? ' (loading…)' : ''}.
            {live > 0 && (
              <span data-testid="compare-live">
                {' '}
                Following {live} live run{live === 1 ? '' : 's'} until {live === 1 ? 'it finishes' : 'they finish'}.
              </span>
            )}
          </p>
        </div>
      </div>
      {runs
        .filter((r) => r.problem)
        .map((r) => (
          <ProblemNote key={r.id} problem={{ ...r.problem!, message: `${r.id}: ${r.problem!.message}` }} />
        ))}
      {loaded.length > 0 && (
        <>
          <Card title="Metrics by iteration">
            <CompareChart runs={chartRuns} metrics={metrics} />
          </Card>
          <div className="card table-card">
            <table className="compare-table" data-testid="compare-table">
              <thead>
                <tr>
                  <th />
                  {loaded.map((r, i) => (
                    <th key={r.id}>
                      <span className="run-colour" data-colour={i % RUN_COLOURS.length} aria-hidden="true" />
                      <Link to={runPath(r.id)} className="goal-link">
                        {r.run.goal}
                      </Link>
                      <span className="mono faint">{r.id}</span> <StatusBadge status={r.run.status} />
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <SectionRows title="Result" rows={resultRows(loaded.map((r) => r.run))} />
                <tr className="compare-section">
                  <th colSpan={loaded.length + 1}>Best node's plan</th>
                </tr>
                <tr>
                  <th>Plan</th>
                  {loaded.map((r) => {
                    const best = r.run.bestMetric ? r.model?.nodes.get(r.run.bestMetric.nodeId) : undefined;
                    return (
                      <td key={r.id} className="prose small">
                        {best?.plan || '—'}
                      </td>
                    );
                  })}
                </tr>
                <SectionRows title="Settings" rows={settingsRows(loaded.map((r) => r.run))} />
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function SectionRows({ title, rows }: { title: string; rows: CompareRow[] }) {
  return (
    <>
      <tr className="compare-section">
        <th colSpan={(rows[0]?.values.length ?? 0) + 1}>{title}</th>
      </tr>
      {rows.map((row) => (
        <tr key={row.label} className={row.differs ? 'differs' : undefined} data-row={row.label}>
          <th>{row.label}</th>
          {row.values.map((value, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: one cell per compared run, in a fixed order
            <td key={i}>{value}</td>
          ))}
        </tr>
      ))}
    </>
  );
}
