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
