import type { RunModel } from '../lib/run-model.js';

/** The chosen idea / plan: title, hypothesis, metric. */
export function PlanSummary({ model }: { model: RunModel }) {
  const plan = model.plan;
  const idea = model.chosenIdea;
  if (!plan && !idea) return null;
  return (
    <div className="plan">
      <h3>{plan?.title ?? idea?.title}</h3>
      <p className="prose">{plan?.hypothesis ?? idea?.hypothesis}</p>
      {plan && (
        <p className="small muted">
          Metric <strong>{plan.metric.name}</strong> ({plan.metric.direction})
          {plan.metric.description ? ` — ${plan.metric.description}` : ''}
        </p>
      )}
    </div>
  );
}
