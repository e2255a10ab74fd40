import { fraction } from '../lib/format.js';

/** A thin bar with a label; `tone` colours it (e.g. red when a budget is nearly used). */
export function ProgressBar({
  value,
  max,
  label,
  tone = 'accent',
}: {
  value: number;
  max: number;
  label?: string;
  tone?: 'accent' | 'ok' | 'warn' | 'danger';
}) {
  const f = fraction(value, max);
  return (
    <div
      className="progress"
      role="progressbar"
      aria-valuemin={0}
      aria-valuemax={max}
      aria-valuenow={value}
      aria-label={label}
    >
      <div className={`progress-fill tone-${tone}`} style={{ width: `${(f * 100).toFixed(1)}%` }} />
    </div>
  );
}
