import {
  evaluatorEntryPoint,
  evolveProgramEntry,
  graderEntryPoint,
  INPUT_KINDS,
  type RunFailureCode,
  type RunInputs,
  type RunModels,
  type RunRecord,
  type Template,
} from '@autolab/contracts';
import { type EvolveRunInput, type HeldOutEvaluation, heldOutEvaluation, type RunInputListings } from '@autolab/engine';
import type { SandboxInput } from '@autolab/sandbox';
import type { UploadStore } from '@autolab/store';
import type { TemplateCatalog } from '@autolab/templates';

/**
 * The run's uploads, checked against its tenant: the listing the engine shows the model and the directories the
 * sandboxes copy in. An upload that is gone (deleted before the run started) fails the run with a clear reason.
 */
export async function resolveInputs(
  uploads: UploadStore,
  templates: TemplateCatalog,
  run: { tenant: string; inputs: RunInputs },
  /** Where uploads kept in S3 are downloaded for the sandboxes to copy in; removed after the attempt. */
  scratch: string,
): Promise<ResolvedInputs> {
  const missing = (message: string): ResolvedInputs => ({ ...NO_INPUTS, missing: message });
  const gone = (what: string, id: string) => missing(`the ${what} ${id} no longer exists (was it deleted?)`);
  const listings: RunInputListings = {};
  const dirs: SandboxInput[] = [];
  for (const kind of INPUT_KINDS) {
    const id = run.inputs[kind];
    if (!id) continue;
    const upload = await uploads.get(id, run.tenant);
    if (!upload) return gone(`${kind} input`, id);
    listings[kind] = { uploadId: id, files: upload.files.map(({ path, size }) => ({ path, size })) };
    dirs.push({ name: kind, dir: await uploads.localFiles(upload, scratch) });
  }
  // A template's baseline is the run's starting code, delivered like an uploaded `code` input.
  const name = run.inputs.template;
  const source = name ? templates.get(name) : null;
  if (name && !source) return missing(`the template ${name} is not one this worker has (is it older than the API?)`);
  if (source) {
    listings.code = { uploadId: null, template: source.template.name, files: source.codeFiles };
    dirs.push({ name: 'code', dir: source.dir, files: source.codeFiles.map((f) => f.path) });
  }
  // The held-out test goes into the grading sandbox's volume only; the engine learns its metric, not its files.
  const grading: SandboxInput[] = [];
  let evaluation: HeldOutEvaluation | null = null;
  const spec = run.inputs.evaluation;
  if (spec) {
    const hidden = await uploads.get(spec.hidden, run.tenant);
    if (!hidden) return gone('held-out input', spec.hidden);
    grading.push({ name: 'hidden', dir: await uploads.localFiles(hidden, scratch) });
    let entry: string | null = null;
    if (spec.grader) {
      const grader = await uploads.get(spec.grader, run.tenant);
      if (!grader) return gone('grader', spec.grader);
      entry = graderEntryPoint(grader.files.map((f) => f.path));
      if (!entry) return missing(`the grader ${spec.grader} has no grade.py`);
      grading.push({ name: 'grader', dir: await uploads.localFiles(grader, scratch) });
    }
    evaluation = heldOutEvaluation(spec, entry);
  }
  return { missing: null, listings, dirs, grading, evaluation, template: source?.template ?? null };
}

export const NO_INPUTS: ResolvedInputs = {
  missing: null,
  listings: {},
  dirs: [],
  grading: [],
  evaluation: null,
  template: null,
};

export interface ResolvedInputs {
  /** Why the run cannot start (an upload it names is gone), or null. */
  missing: string | null;
  /** The run failure for `missing`; default `input_missing`. */
  missingCode?: RunFailureCode;
  listings: RunInputListings;
  dirs: SandboxInput[];
  grading: SandboxInput[];
  evaluation: HeldOutEvaluation | null;
  /** The built-in template the run starts from (its baseline is in `listings.code`). */
  template: Template | null;
}

/**
 * What an evolve run evolves and how it is scored: the program's file in inputs.code and the evaluator's entry point
 * (the API checked both at submit; an upload cannot change since). Null for a research run.
 */
export function evolveInput(
  run: { mode: RunRecord['mode']; policy: Pick<RunRecord['policy'], 'evolve'>; models: RunModels },
  listings: RunInputListings,
): EvolveRunInput | null {
  const policy = run.policy.evolve;
  if (run.mode !== 'evolve' || !policy) return null;
  const fileName = evolveProgramEntry(listings.code?.files.map((f) => f.path) ?? [], policy.program);
  const evaluatorEntry = evaluatorEntryPoint(listings.evaluator?.files.map((f) => f.path) ?? []);
  if (!fileName || !evaluatorEntry) return null;
  return { policy, fileName, evaluatorEntry, models: policy.models ?? [run.models.code] };
}
