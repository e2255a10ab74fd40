/** Which recorded metric a chart shows (shown only when there is a choice). */
export function MetricSelect({
  metrics,
  value,
  main = null,
  onChange,
}: {
  metrics: string[];
  value: string;
  /** The plan's metric, marked "(main)". */
  main?: string | null;
  onChange: (metric: string) => void;
}) {
  if (metrics.length < 2) return null;
  return (
    <label className="metric-pick">
      <span className="faint small">Metric</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} aria-label="Metric">
        {metrics.map((name) => (
          <option key={name} value={name}>
            {name}
            {name === main ? ' (main)' : ''}
          </option>
        ))}
      </select>
    </label>
  );
}
