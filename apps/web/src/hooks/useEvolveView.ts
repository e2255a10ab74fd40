import { EVOLVE_ARTIFACTS } from '@autolab/contracts/evolve-artifacts';
import { useMemo } from 'react';
import { type EvolveView, evolveView, parseEvolveDatabase } from '../lib/evolve.js';
import type { RunModel } from '../lib/run-model.js';
import { useArtifactText } from './useArtifact.js';

/**
 * An evolve run's population: `evolve/database.json` (read again after each finished generation and at the end) with
 * the run's events on top. `enabled` false reads nothing (a research run).
 */
export function useEvolveView(runId: string, model: RunModel, version: number, enabled: boolean): EvolveView | null {
  // biome-ignore lint/correctness/useExhaustiveDependencies: the model is mutated in place; version says it changed
  const generations = useMemo(
    () => `${model.events.filter((e) => e.type === 'generation.finished').length}|${model.finished ? 1 : 0}`,
    [model, version],
  );
  const file = useArtifactText(runId, enabled ? EVOLVE_ARTIFACTS.database : null, generations);
  const db = useMemo(() => (file.state === 'ready' ? parseEvolveDatabase(file.value) : null), [file]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: see above
  return useMemo(() => (enabled ? evolveView(db, model.events) : null), [enabled, db, model, version]);
}
