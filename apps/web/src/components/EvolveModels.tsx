import type { EvolveView } from '../lib/evolve.js';
import { formatMetric, formatUsd } from '../lib/format.js';

/**
 * The mutation models: each one's children evaluated, how many beat their parent, cost and the bandit's score, then
 * which model each generation went to and why; the children rejected as too similar.
 */
export function EvolveModels({ view }: { view: EvolveView }) {
  return (
    <div className="evolve-models" data-testid="evolve-models">
      <p className="small">
        <strong data-testid="rejections">{view.rejections}</strong> child{view.rejections === 1 ? '' : 'ren'} rejected
        as too similar to an existing program
        {view.migrations > 0 && `; ${view.migrations} migration${view.migrations === 1 ? '' : 's'} between islands`}.
      </p>
      {view.models.length > 0 && (
        <table className="model-stats">
          <thead>
            <tr>
              <th>Model</th>
              <th title="Children it wrote that were evaluated">Tried</th>
              <th title="Of those, how many beat their parent">Better</th>
              <th>Cost</th>
              <th title="The bandit's upper-confidence score">UCB</th>
            </tr>
          </thead>
          <tbody>
            {view.models.map((m) => (
              <tr key={m.model}>
                <th>{m.model}</th>
                <td className="num">{m.pulls}</td>
                <td className="num">{m.improvements}</td>
                <td className="num">{formatUsd(m.costUsd)}</td>
                <td className="num">{formatMetric(m.score)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {view.allocations.length > 0 && (
        <ol className="allocations small">
          {view.allocations.map((a) => (
            <li key={a.generation}>
              <span className="muted">generation {a.generation} →</span> <strong>{a.model}</strong>
              <span className="allocation-reason">{a.reason}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
