import type { EventOf } from '@autolab/contracts';
import { formatMetric } from '../lib/format.js';

/** The best experiment re-run with more seeds: mean ± std (or that the seeds changed nothing) and each value. */
export function SeedsPanel({ seeds }: { seeds: EventOf<'seeds.evaluated'>['data'] }) {
  return (
    <div className="seeds">
      <p className="big-number">
        {formatMetric(seeds.mean)} {seeds.ignored ? null : <span className="faint">± {formatMetric(seeds.std)}</span>}
      </p>
      <p className="small muted">
        {seeds.metric} of {seeds.nodeId} over {seeds.values.length} seeds
        {seeds.ignored ? ': the same for every seed (the program is deterministic or ignores SEED)' : ''}
      </p>
      <ul className="seed-values">
        {seeds.values.map((v, i) => (
          <li key={seeds.seeds[i] ?? i}>
            <span className="faint">seed {seeds.seeds[i]}</span> <span className="num">{formatMetric(v)}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}
