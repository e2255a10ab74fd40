/**
 * Where evolve mode keeps its files in the run's artifacts, as plain constants without zod so the dashboard can use
 * them without bundling zod (`@autolab/contracts/evolve-artifacts`).
 */
export const EVOLVE_ARTIFACTS = {
  database: 'evolve/database.json',
  candidateDir: (id: string) => `evolve/candidates/${id}`,
  /** The candidate's program (with the initial program's file name), its diff against its first parent. */
  program: (id: string, fileName: string) => `evolve/candidates/${id}/program/${fileName}`,
  patch: (id: string) => `evolve/candidates/${id}/patch.diff`,
  bestProgram: (fileName: string) => `evolve/best/program/${fileName}`,
  bestDiff: 'evolve/best/diff-from-initial.patch',
  report: 'evolve/report.md',
  scoreFigure: 'evolve/score-by-generation.png',
} as const;

/** Evolve mode's candidate ids (`c000`, `c001`, …); a research run's experiments are `n001`, … */
export const CANDIDATE_ID_PATTERN = /^c\d{3,}$/;

/**
 * The artifact that records what a lesson's evidence cites: an experiment's `nodes/<id>/node.json`, or an evolve
 * candidate's `evolve/candidates/<id>/candidate.json` (the recommendations of evolve runs become lessons too).
 */
export const evidenceRecordPath = (nodeId: string): string =>
  CANDIDATE_ID_PATTERN.test(nodeId)
    ? `${EVOLVE_ARTIFACTS.candidateDir(nodeId)}/candidate.json`
    : `nodes/${nodeId}/node.json`;
