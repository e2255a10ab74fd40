/**
 * The roles of a run's models, without zod, so the dashboard can import them (`@autolab/contracts/model-roles`)
 * without the schemas.
 */

/**
 * The steps of a run, grouped by what they ask of a model. `code`: draft, debug, improve, tuning and ablation
 * programs. `judge`: execution review and tie-breaks. `writeup`: figures, the paper, LaTeX fixes and the revision.
 * `review`: reviews and the meta-review. `ideas`: ideas and their refinement. `vision` (optional) sees each figure
 * as an image and critiques it.
 */
export const MODEL_ROLES = ['code', 'judge', 'writeup', 'review', 'ideas'] as const;
export type ModelRole = (typeof MODEL_ROLES)[number];
export type AnyModelRole = ModelRole | 'vision';

/** The models other than the code model, each with the roles it serves (for one-line displays). */
export function otherModels(
  models: Record<ModelRole, string> & { vision: string | null },
): { model: string; roles: AnyModelRole[] }[] {
  const others = new Map<string, AnyModelRole[]>();
  const add = (model: string, role: AnyModelRole) => others.set(model, [...(others.get(model) ?? []), role]);
  for (const role of MODEL_ROLES) if (models[role] !== models.code) add(models[role], role);
  if (models.vision) add(models.vision, 'vision');
  return [...others].map(([model, roles]) => ({ model, roles }));
}
