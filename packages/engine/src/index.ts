export { judgeExecution, lastErrorLine, metricsFromResults } from './experiment-results.js';
export {
  bestNode,
  ExperimentNode,
  formatNumber,
  goodNodes,
  isBetter,
  MAX_DEBUG_DEPTH,
  nextStep,
  nodeIdFor,
  ResearchPlan,
} from './journal.js';
export { OutputStreamer } from './output-streamer.js';
export { escapeLatex, latexErrors, renderPaper, resultsTable, resultsTex } from './paper-latex.js';
export * from './ports.js';
export { TOOLS } from './prompts.js';
export {
  MAX_LATEX_FIXES,
  type ResearchOutcome,
  type ResearchPorts,
  type ResearchRunInput,
  runResearch,
  WRITEUP_BUDGET_SHARE,
} from './research-run.js';
