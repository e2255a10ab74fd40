/**
 * The new-run form's checks and how the API's `validation_failed` issues read on the form: one voice for both, each
 * message under the field it is about and in the summary by the label the form shows. The limits mirror
 * `CreateRunRequest` (form-checks.test.ts compares them with the contract's JSON schema).
 */

export interface NumberField {
  /** The request path (`sandbox.cpus`): the key of the API's issues. */
  path: string;
  label: string;
  min: number;
  max: number;
  /** Whole numbers only. */
  integer: boolean;
  /** The minimum itself is not allowed (a budget must be above 0). */
  exclusiveMin?: boolean;
}

export const NUMBER_FIELDS = {
  maxIterations: { path: 'maxIterations', label: 'Max iterations', min: 1, max: 200, integer: true },
  budgetUsd: { path: 'budgetUsd', label: 'Budget (USD)', min: 0, max: 10_000, integer: false, exclusiveMin: true },
  timeLimitMinutes: { path: 'timeLimitMinutes', label: 'Time limit (min)', min: 1, max: 10_080, integer: true },
  cpus: { path: 'sandbox.cpus', label: 'CPUs', min: 0.25, max: 16, integer: false },
  memoryMb: { path: 'sandbox.memoryMb', label: 'Memory (MB)', min: 128, max: 65_536, integer: true },
  execTimeoutSeconds: {
    path: 'sandbox.execTimeoutSeconds',
    label: 'Exec timeout (s)',
    min: 5,
    max: 3600,
    integer: true,
  },
  numDrafts: { path: 'search.numDrafts', label: 'Drafts', min: 1, max: 10, integer: true },
  debugProb: { path: 'search.debugProb', label: 'Debug probability', min: 0, max: 1, integer: false },
  maxDebugDepth: { path: 'search.maxDebugDepth', label: 'Max debug depth', min: 0, max: 10, integer: true },
  nodeConcurrency: { path: 'search.nodeConcurrency', label: 'Parallel nodes', min: 1, max: 8, integer: true },
  numIdeas: { path: 'ideation.numIdeas', label: 'Ideas', min: 1, max: 10, integer: true },
  reflections: { path: 'ideation.reflections', label: 'Reflections', min: 0, max: 5, integer: true },
  reviewers: { path: 'review.reviewers', label: 'Reviewers', min: 0, max: 7, integer: true },
  seeds: { path: 'seeds', label: 'Extra seeds', min: 0, max: 10, integer: true },
  pageLimit: { path: 'pageLimit', label: 'Page limit', min: 1, max: 50, integer: true },
  maxTokens: { path: 'maxTokens', label: 'Max tokens', min: 1000, max: 1e9, integer: true },
  generations: { path: 'evolve.generations', label: 'Generations', min: 1, max: 500, integer: true },
  population: { path: 'evolve.population', label: 'Population', min: 1, max: 64, integer: true },
  islands: { path: 'evolve.islands', label: 'Islands', min: 1, max: 16, integer: true },
} as const satisfies Record<string, NumberField>;
export type NumberFieldKey = keyof typeof NUMBER_FIELDS;

/** The fields of one mode only (the form hides the other's, and neither checks nor sends them). */
const EVOLVE_ONLY = new Set<NumberFieldKey>(['generations', 'population', 'islands']);
const RESEARCH_ONLY = new Set<NumberFieldKey>([
  'maxIterations',
  'numDrafts',
  'debugProb',
  'maxDebugDepth',
  'numIdeas',
  'reflections',
  'reviewers',
  'seeds',
  'pageLimit',
]);
export const fieldInMode = (key: NumberFieldKey, mode: 'research' | 'evolve') =>
  !(mode === 'evolve' ? RESEARCH_ONLY : EVOLVE_ONLY).has(key);

export const GOAL = { path: 'goal', label: 'Research goal', min: 10, max: 8000 } as const;

/** Labels of the form's other fields, by request path (for the API's issues about them). */
const OTHER_LABELS: Record<string, string> = {
  model: 'Model',
  'sandbox.image': 'Image',
  'models.code': 'Code model',
  'models.judge': 'Judge model',
  'models.writeup': 'Writeup model',
  'models.review': 'Review model',
  'models.ideas': 'Ideas model',
  'models.vision': 'Vision model',
  'inputs.data': 'Data',
  'inputs.code': 'Starting code',
  'inputs.papers': 'Papers',
  'inputs.evaluator': 'Evaluator',
};
/** In evolve mode the starting code is the program to evolve. */
const EVOLVE_LABELS: Record<string, string> = { 'inputs.code': 'Program', goal: 'Goal' };

const number = (n: number) => n.toLocaleString('en-US', { maximumFractionDigits: 4 });

/** What a number field expects, as the message under it. */
export function numberRule(field: NumberField): string {
  const kind = field.integer ? 'a whole number' : 'a number';
  if (field.exclusiveMin) return `Enter ${kind} above ${number(field.min)}, at most ${number(field.max)}.`;
  return `Enter ${kind} from ${number(field.min)} to ${number(field.max)}.`;
}

/** The message for a number field's text, or null when it is fine (empty: the server's default). */
export function checkNumber(field: NumberField, text: string): string | null {
  if (text.trim() === '') return null;
  const value = Number(text);
  const ok =
    Number.isFinite(value) &&
    (!field.integer || Number.isInteger(value)) &&
    (field.exclusiveMin ? value > field.min : value >= field.min) &&
    value <= field.max;
  return ok ? null : numberRule(field);
}

export function checkGoal(text: string): string | null {
  const length = text.trim().length;
  if (length === 0) return 'Enter a research goal.';
  if (length < GOAL.min) return `Enter at least ${GOAL.min} characters (this has ${length}).`;
  if (length > GOAL.max) return `Enter at most ${number(GOAL.max)} characters (this has ${number(length)}).`;
  return null;
}

export interface FieldIssue {
  /** The request path the issue is about (`sandbox.cpus`). */
  path: string;
  /** The label the form shows for it. */
  label: string;
  message: string;
}

/**
 * Every problem the form can see before sending: the goal and the number fields of the mode. An evolve run's goal is
 * optional, and it needs its program and evaluator (`files`: whether each has files).
 */
export function checkForm(
  values: { goal: string } & Record<NumberFieldKey, string>,
  mode: 'research' | 'evolve' = 'research',
  files: { program: boolean; evaluator: boolean } = { program: true, evaluator: true },
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const goal = mode === 'evolve' && values.goal.trim() === '' ? null : checkGoal(values.goal);
  if (goal) issues.push({ path: GOAL.path, label: mode === 'evolve' ? 'Goal' : GOAL.label, message: goal });
  if (mode === 'evolve') {
    if (!files.program) issues.push({ path: 'inputs.code', label: 'Program', message: 'Add the program to evolve.' });
    if (!files.evaluator)
      issues.push({ path: 'inputs.evaluator', label: 'Evaluator', message: 'Add the evaluator (evaluate.py).' });
  }
  for (const [key, field] of Object.entries(NUMBER_FIELDS) as [NumberFieldKey, NumberField][]) {
    if (!fieldInMode(key, mode)) continue;
    const message = checkNumber(field, values[key]);
    if (message) issues.push({ path: field.path, label: field.label, message });
  }
  return issues;
}

const byPath = new Map<string, NumberField>(Object.values(NUMBER_FIELDS).map((f) => [f.path, f]));

/** The label the form shows for a request path; the path itself for anything the form has no field for. */
export function labelFor(path: string, mode: 'research' | 'evolve' = 'research'): string {
  if (mode === 'evolve' && EVOLVE_LABELS[path]) return EVOLVE_LABELS[path];
  if (path === GOAL.path) return GOAL.label;
  return byPath.get(path)?.label ?? OTHER_LABELS[path] ?? path;
}

/**
 * An issue of the API's `validation_failed` answer in the form's words: a number field gets the rule the form states
 * (the API's text is the schema library's, "Too big: expected number to be <=200"); anything else keeps the API's
 * explanation (which names the allowed values), as a sentence.
 */
export function fromApiIssue(
  issue: { path: string; message: string },
  mode: 'research' | 'evolve' = 'research',
): FieldIssue {
  const field = byPath.get(issue.path);
  if (field) return { path: issue.path, label: field.label, message: numberRule(field) };
  if (issue.path === GOAL.path) {
    const m = /at least (\d+)|at most (\d+)/.exec(issue.message);
    const message = m ? `Enter ${m[1] ? 'at least' : 'at most'} ${m[1] ?? m[2]} characters.` : sentence(issue.message);
    return { path: issue.path, label: labelFor(issue.path, mode), message };
  }
  return { path: issue.path, label: labelFor(issue.path, mode), message: sentence(issue.message) };
}

/** The summary above the buttons: how many fields need a change. */
export function summaryFor(issues: readonly FieldIssue[]): string {
  const fields = new Set(issues.map((i) => i.path)).size;
  return fields === 1 ? 'One field needs a change:' : `${fields} fields need a change:`;
}

function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return trimmed;
  const capital = trimmed[0]!.toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}
