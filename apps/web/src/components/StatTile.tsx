import type { ReactNode } from 'react';

/** One number with a label and an optional line below (e.g. a progress bar). */
export function StatTile({ label, value, children }: { label: string; value: ReactNode; children?: ReactNode }) {
  return (
    <div className="stat">
      <span className="stat-label">{label}</span>
      <span className="stat-value">{value}</span>
      {children}
    </div>
  );
}
