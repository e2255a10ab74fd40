export {
  type CheckpointWrite,
  CheckpointWriter,
  joinCheckpoint,
  type StoredCheckpoint,
} from './checkpoint.js';
export { type EvolveRunInput, MAX_PROGRAM_BYTES } from './evolve-run.js';
export { describeSkipped, judgeExecution, lastErrorLine, metricsFromResults } from './experiment-results.js';
export { BUILTIN_GRADER, type HeldOutEvaluation, heldOutEvaluation, USER_GRADER_WRAPPER } from './held-out.js';
export { chooseIdea } from './ideation.js';
export type { InputListing, RunInputListings } from './inputs.js';
export {
  bestNode,
  ExperimentNode,
  formatNumber,
  goodNodes,
  isBetter,
  nodeIdFor,
  ResearchPlan,
} from './journal.js';
export { distilLessons, evidenceFor, LESSON_STEPS, renderLessons } from './lessons.js';
export { printedIn } from './node-runner.js';
export { OutputStreamer } from './output-streamer.js';
export { escapeLatex, latexErrors, pageCount, renderPaper, resultsTex, unknownCitations } from './paper-latex.js';
export * from './ports.js';
export { HANDED_OVER, LESSONS_AFTER_STOP_MS, runResearch } from './research-run.js';
export { averageReview } from './review.js';
export {
  MAX_CONSECUTIVE_MALFORMED,
  type ResearchOutcome,
  type ResearchPorts,
  type ResearchRunInput,
  WRITEUP_BUDGET_SHARE,
} from './run-context.js';
export { freshState, RunState, restoreState, truncateForRerun } from './run-state.js';
export { describeGain, startingCodeGain } from './starting-code-gain.js';
export { TOOLS } from './tools.js';
export { chooseStep, STAGES, seededRandom, stageBudgets } from './tree-search.js';
export { MAX_LATEX_FIXES } from './writeup.js';
