export {
  applyDiff,
  applyRewrite,
  type DiffEdit,
  EvolveBlockError,
  evolveText,
  type ParsedProgram,
  type PatchResult,
  parseDiffReply,
  parseProgram,
  programDiff,
  type Segment,
} from './evolve-blocks.js';
export {
  type BanditChoice,
  type BanditOptions,
  BanditState,
  choose,
  DEFAULT_COST_WEIGHT,
  DEFAULT_EXPLORATION,
  ModelStats,
  record,
} from './model-bandit.js';
export {
  codeTokens,
  cosineSimilarity,
  mostSimilar,
  type Nearest,
  type NoveltyItem,
  type SimilarityMeasure,
  tokenSetSimilarity,
} from './novelty.js';
export { choosePatchType, type PatchTypeWeights } from './patch-type.js';
export {
  Candidate,
  type CandidateOrigin,
  type CandidateStatus,
  type DatabaseOptions,
  DEFAULT_ARCHIVE_SIZE,
  DEFAULT_LAMBDA,
  type Direction,
  type GenerationBest,
  isEligible,
  type Migration,
  type PatchType,
  ProgramDatabase,
  ProgramDatabaseState,
  type Random,
} from './program-database.js';
export { RngState, SeededRng } from './rng.js';
