import type { RunModel } from '../lib/run-model.js';

/** Ideation: the last round of proposed ideas with their scores, the chosen one marked. */
export function IdeasPanel({ model }: { model: RunModel }) {
  const last = model.ideas.at(-1);
  const chosen = model.chosenIdea;
  if (!last && !chosen) return null;
  const ideas = last?.ideas ?? (chosen ? [chosen] : []);
  return (
    <div className="ideas">
      {last && (
        <p className="faint small">
          {model.ideas.length} round{model.ideas.length === 1 ? '' : 's'} of proposals
        </p>
      )}
      <ul className="idea-list">
        {ideas.map((idea) => {
          const isChosen = chosen?.title === idea.title;
          return (
            <li key={idea.title} className={isChosen ? 'idea chosen' : 'idea'}>
              <div className="idea-head">
                <strong>{idea.title}</strong>
                {isChosen && <span className="pill pill-ok">chosen</span>}
              </div>
              <div className="scores">
                <span title="interestingness">interest {idea.scores.interestingness}</span>
                <span title="feasibility">feasible {idea.scores.feasibility}</span>
                <span title="novelty">novel {idea.scores.novelty}</span>
              </div>
            </li>
          );
        })}
      </ul>
      {chosen?.reason && <p className="small muted">Why: {chosen.reason}</p>}
    </div>
  );
}
