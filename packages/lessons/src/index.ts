export { type LearnedLesson, MAX_EVIDENCE, type MergeContext, mergeLessons } from './lesson-merge.js';
export {
  cosine,
  type LessonHit,
  LessonIndex,
  type LessonQuery,
  lessonTerms,
  MIN_MATCHED_TERMS,
  RELATIVE_CUTOFF,
} from './lesson-search.js';
export {
  emptyCounts,
  MIN_OBSERVATIONS,
  type SearchCounts,
  TUNABLE_FIELDS,
  TUNING_BOUNDS,
  type TunableField,
  tuneSearch,
} from './search-tuning.js';
