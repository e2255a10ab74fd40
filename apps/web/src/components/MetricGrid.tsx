import { formatMetric } from '../lib/format.js';

/** Every metric of a node or candidate, the primary one marked. */
export function MetricGrid({ metrics, primary }: { metrics: Record<string, number>; primary: string | null }) {
  const entries = Object.entries(metrics);
  if (entries.length === 0) return null;
  return (
    <>
      <h3>Metrics</h3>
      <dl className="metric-grid">
        {entries.map(([name, value]) => (
          <div key={name} className={name === primary ? 'primary' : undefined}>
            <dt>{name}</dt>
            <dd className="num">{formatMetric(value)}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}
