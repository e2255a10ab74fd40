import type { RunStatus } from '@autolab/contracts';

export function StatusBadge({ status }: { status: RunStatus | string }) {
  return (
    <span className={`badge badge-${status}`} data-status={status}>
      {(status === 'running' || status === 'queued') && <span className="badge-pulse" aria-hidden="true" />}
      {status}
    </span>
  );
}
