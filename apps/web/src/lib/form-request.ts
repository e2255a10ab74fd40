import type { CreateRunRequest } from '@autolab/contracts';

/** What the new-run form starts a run for: a research goal, or evolving the user's program (docs/evolve.md). */
export type FormMode = 'research' | 'evolve';

/** Form values as typed (strings), so an empty field means "the server's default". */
export const FORM_DEFAULTS = {
  goal: '',
  maxIterations: '6',
  budgetUsd: '',
  timeLimitMinutes: '60',
  model: '',
  modelCode: '',
  modelJudge: '',
  modelWriteup: '',
  modelReview: '',
  modelIdeas: '',
  modelVision: '',
  cpus: '1',
  memoryMb: '2048',
  execTimeoutSeconds: '300',
  image: '',
  numDrafts: '2',
  debugProb: '0.5',
  maxDebugDepth: '3',
  nodeConcurrency: '1',
  numIdeas: '3',
  reflections: '1',
  reviewers: '3',
  revise: false,
  seeds: '3',
  pageLimit: '8',
  maxTokens: '',
  generations: '10',
  population: '4',
  islands: '2',
};
export type FormValues = typeof FORM_DEFAULTS;

/**
 * Builds the request body: only fields with a value; numbers as numbers (the API validates everything). An evolve run
 * sends its own settings and none of the research steps' (ideas, review, seeds, paper); its goal is optional.
 */
export function toRequest(v: FormValues, mode: FormMode = 'research'): CreateRunRequest {
  const num = (s: string) => (s.trim() === '' ? undefined : Number(s));
  const pick = <T extends object>(o: T) =>
    Object.fromEntries(Object.entries(o).filter(([, x]) => x !== undefined)) as {
      [K in keyof T]: Exclude<T[K], undefined>;
    };
  const evolve = mode === 'evolve';
  const research = (fields: object) => (evolve ? {} : fields);
  return pick({
    ...(evolve
      ? {
          mode: 'evolve',
          evolve: pick({ generations: num(v.generations), population: num(v.population), islands: num(v.islands) }),
        }
      : {}),
    goal: evolve ? v.goal.trim() || undefined : v.goal,
    ...research({ maxIterations: num(v.maxIterations) }),
    budgetUsd: num(v.budgetUsd),
    timeLimitMinutes: num(v.timeLimitMinutes),
    model: v.model.trim() || undefined,
    models: emptyToUndefined(
      pick({
        code: v.modelCode.trim() || undefined,
        judge: v.modelJudge.trim() || undefined,
        writeup: v.modelWriteup.trim() || undefined,
        review: v.modelReview.trim() || undefined,
        ideas: v.modelIdeas.trim() || undefined,
        vision: v.modelVision.trim() === 'none' ? null : v.modelVision.trim() || undefined,
      }),
    ),
    maxTokens: num(v.maxTokens),
    sandbox: pick({
      cpus: num(v.cpus),
      memoryMb: num(v.memoryMb),
      execTimeoutSeconds: num(v.execTimeoutSeconds),
      image: v.image.trim() || undefined,
    }),
    search: pick({
      ...research({ numDrafts: num(v.numDrafts), debugProb: num(v.debugProb), maxDebugDepth: num(v.maxDebugDepth) }),
      nodeConcurrency: num(v.nodeConcurrency),
    }),
    ...research({
      ideation: pick({ numIdeas: num(v.numIdeas), reflections: num(v.reflections) }),
      review: { ...pick({ reviewers: num(v.reviewers) }), revise: v.revise },
      seeds: num(v.seeds),
      pageLimit: num(v.pageLimit),
    }),
  }) as CreateRunRequest;
}

const emptyToUndefined = <T extends object>(o: T): T | undefined => (Object.keys(o).length > 0 ? o : undefined);
