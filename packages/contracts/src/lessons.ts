import { z } from 'zod';

/**
 * Lessons: what a tenant's finished runs taught, each traceable to the recorded measurements behind it
 * (docs/lessons.md). A lesson is written by the distillation step at the end of a run and read back into later runs'
 * prompts; its evidence is filled in by the engine from the run's nodes, never taken from the model's prose.
 */

/** Lesson ids: `les_` and 26 time-sortable characters, like run ids. */
export const LESSON_ID_PATTERN = /^les_[0-9a-z]{26}$/;
export const LessonId = z.string().regex(LESSON_ID_PATTERN, 'not a lesson id');

export const LESSON_KINDS = ['pitfall', 'technique', 'setting', 'negative-result'] as const;
export const LessonKind = z
  .enum(LESSON_KINDS)
  .describe(
    '`pitfall`: what broke and how it was fixed; `technique`: a method that improved the metric; `setting`: a ' +
      'value (a learning rate, a budget) that worked; `negative-result`: what was tried and did not help.',
  );
export type LessonKind = z.infer<typeof LessonKind>;

/** A scope tag: `<facet>:<value>`, e.g. `task:classification`, `data:tabular`, `lib:numpy`, `metric:accuracy`. */
export const LESSON_TAG_PATTERN = /^(task|data|lib|metric):[a-z0-9][a-z0-9_.+-]{0,47}$/;
export const LessonTag = z
  .string()
  .regex(
    LESSON_TAG_PATTERN,
    'a tag is task:, data:, lib: or metric: and a lower-case value (letters, digits, _ . + -)',
  );

export const LessonEvidence = z.object({
  runId: z.string(),
  nodeId: z.string().describe('The experiment the lesson cites.'),
  parentNodeId: z.string().nullable().describe('The experiment it was derived from (what it is compared with).'),
  stance: z
    .enum(['supports', 'contradicts'])
    .describe('Whether this measurement supports the lesson or, from a later run, contradicts it.'),
  metric: z.string().nullable().describe('The primary metric of the run, as recorded in results.json.'),
  before: z.number().nullable().describe("The parent's recorded value (null when the parent failed or there is none)."),
  after: z.number().nullable().describe("The cited experiment's recorded value (null when it failed)."),
  error: z
    .string()
    .nullable()
    .describe('The recorded error of the failed experiment among the two (the parent for a fix), else null.'),
  results: z
    .string()
    .nullable()
    .describe("The artifact path of the cited experiment's results.json, when it wrote one."),
  recordedAt: z.string(),
});
export type LessonEvidence = z.infer<typeof LessonEvidence>;

export const Lesson = z.object({
  id: z.string(),
  tenant: z.string(),
  kind: LessonKind,
  text: z.string().describe('The lesson in one or two sentences.'),
  tags: z.array(z.string()),
  evidence: z.array(LessonEvidence).describe('Oldest first; every lesson has at least one supporting entry.'),
  confidence: z
    .number()
    .describe(
      '(supporting + 1) / (supporting + contradicting + 2), over distinct runs: 0.67 for one run, higher as runs agree.',
    ),
  pinned: z.boolean().describe('Pinned lessons are retrieved first when they match.'),
  retracted: z.boolean().describe('Retracted lessons are kept for the record but never retrieved into a run.'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Lesson = z.infer<typeof Lesson>;

/** A lesson as `GET /v1/lessons/{id}` shows it: each piece of evidence linked to its run and files. */
export const LessonDetail = Lesson.extend({
  evidence: z.array(
    LessonEvidence.extend({
      links: z.object({
        run: z.string().describe('The run the measurement comes from.'),
        node: z
          .string()
          .describe("The experiment's node.json (its plan, metrics, error), or an evolve candidate's candidate.json."),
        results: z.string().nullable().describe('Its results.json, when it wrote one.'),
      }),
    }),
  ),
});
export type LessonDetail = z.infer<typeof LessonDetail>;

/** Which tenants may read a tenant's lessons (read-only). Set by an admin. */
export const LessonSharing = z.object({
  tenant: z.string(),
  readers: z.array(z.string()).describe('Tenants that read this tenant’s lessons, in their runs and in the API.'),
});
export type LessonSharing = z.infer<typeof LessonSharing>;

export const LessonList = z.object({
  lessons: z.array(Lesson),
  nextCursor: z.string().nullable().describe('Pass as `cursor` for the next page; null on the last page.'),
});
export type LessonList = z.infer<typeof LessonList>;

export const UpdateLessonRequest = z
  .object({
    pinned: z.boolean().optional(),
    retracted: z.boolean().optional(),
  })
  .strict()
  .refine((body) => body.pinned !== undefined || body.retracted !== undefined, {
    message: 'give pinned or retracted',
  });
export type UpdateLessonRequest = z.infer<typeof UpdateLessonRequest>;

/** Per run: whether its prompts get the tenant's lessons, and whether its own journal adds to them. */
export const RunLessonsPolicy = z
  .object({
    use: z.boolean().default(true).describe("Put the tenant's relevant lessons into this run's prompts."),
    learn: z.boolean().default(true).describe('Distil lessons from this run when it ends.'),
  })
  .strict();
export type RunLessonsPolicy = z.infer<typeof RunLessonsPolicy>;

/** How one field of a run's search policy got its value when the request left it out (docs/lessons.md). */
export const SearchTuning = z.object({
  field: z.enum(['numDrafts', 'debugProb', 'maxDebugDepth']),
  value: z.number(),
  tuned: z.boolean().describe("True: set from the tenant's statistics; false: the request default (too few data)."),
  reason: z.string(),
});
export type SearchTuning = z.infer<typeof SearchTuning>;

/** What a tenant's finished runs measured about the search, and the defaults a new run would get from it. */
export const SearchStats = z.object({
  runs: z.number().int().describe('Finished runs counted.'),
  drafts: z.number().int(),
  draftsWorked: z.number().int(),
  debugs: z.record(z.string(), z.number().int()).describe('Debug steps by depth (1: fixing a node that is no fix).'),
  debugsFixed: z.record(z.string(), z.number().int()).describe('Of those, the ones that worked.'),
  stageNodes: z.record(z.string(), z.number().int()).describe('Experiments by stage.'),
  stageImproved: z.record(z.string(), z.number().int()).describe('Of those, the ones better than their parent.'),
  defaults: z.array(SearchTuning).describe('What a run that sets none of the three would get now, and why.'),
});
export type SearchStats = z.infer<typeof SearchStats>;

/** The confidence of a lesson from its evidence: Laplace's rule over distinct runs (docs/lessons.md). */
export function lessonConfidence(evidence: readonly Pick<LessonEvidence, 'runId' | 'stance'>[]): number {
  const supporting = new Set(evidence.filter((e) => e.stance === 'supports').map((e) => e.runId));
  const contradicting = new Set(evidence.filter((e) => e.stance === 'contradicts').map((e) => e.runId));
  return (supporting.size + 1) / (supporting.size + contradicting.size + 2);
}
