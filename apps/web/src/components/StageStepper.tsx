import type { ExperimentStage, RunStage } from '@autolab/contracts';
import { EXPERIMENT_STAGES, RUN_STAGES } from '@autolab/contracts/stages';

/** The stages an evolve run goes through (evolution, then the report). */
export const EVOLVE_STAGES: readonly RunStage[] = ['experiments', 'writeup', 'done'];

/** Where the run is: its stage, and within experiments the tree search's stage (a research run's). */
export function StageStepper({
  stage,
  experimentStage,
  failed,
  stages = RUN_STAGES,
}: {
  stage: RunStage | null;
  experimentStage: string | null;
  failed: boolean;
  /** The run's stages in order (default: a research run's, the only one with the tree search's stages). */
  stages?: readonly RunStage[];
}) {
  const current = stage ? stages.indexOf(stage) : -1;
  const search = stages === RUN_STAGES;
  const expIndex = experimentStage ? EXPERIMENT_STAGES.indexOf(experimentStage as ExperimentStage) : -1;
  return (
    <div className="stepper-wrap">
      <ol className="stepper" aria-label="Run stage">
        {stages.map((s, i) => {
          const state =
            i < current || stage === 'done' ? 'done' : i === current ? (failed ? 'failed' : 'current') : 'todo';
          return (
            <li
              key={s}
              className={`step step-${state}`}
              data-stage={s}
              aria-current={state === 'current' ? 'step' : undefined}
            >
              <span className="step-dot" aria-hidden="true" />
              <span className="step-label">{s}</span>
            </li>
          );
        })}
      </ol>
      {search && (stage === 'experiments' || expIndex >= 0) && (
        <ol className="substeps" aria-label="Experiment stage">
          {EXPERIMENT_STAGES.map((s, i) => {
            const done = i < expIndex || (stage !== 'experiments' && expIndex >= i);
            const now = i === expIndex && stage === 'experiments';
            return (
              <li key={s} className={`substep ${done ? 'substep-done' : ''} ${now ? 'substep-current' : ''}`}>
                {s}
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
