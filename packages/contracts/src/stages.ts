/**
 * The stage names as plain constants, without zod, so the dashboard can use them without bundling zod
 * (`@autolab/contracts/stages`). The zod enums in run.ts are built from these.
 */

/** Stages of a run, in order; `done` once the run has nothing left to do. */
export const RUN_STAGES = ['ideation', 'experiments', 'figures', 'writeup', 'review', 'done'] as const;

/** Stages of the experiment tree search, in order; each has its own goal and exit condition. */
export const EXPERIMENT_STAGES = ['baseline', 'tuning', 'research', 'ablation'] as const;

/** Stages a finished run can be re-run from, in order (a new attempt of the same run that reuses what came before). */
export const RERUN_STAGES = ['experiments', 'figures', 'writeup', 'review'] as const;
export type RerunStageName = (typeof RERUN_STAGES)[number];

/**
 * The stages a rerun from `fromStage` runs again, replacing their results: that stage and every later one. The
 * engine, the dashboard and the CLI all decide what a rerun forgets from this.
 */
export function stagesRerunFrom(fromStage: RerunStageName): RerunStageName[] {
  return RERUN_STAGES.slice(RERUN_STAGES.indexOf(fromStage));
}
