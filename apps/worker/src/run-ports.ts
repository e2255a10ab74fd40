import type { ResearchPorts } from '@autolab/engine';
import type {
  ArtifactStore,
  HintStore,
  LessonEmbeddings,
  LessonStore,
  RunStore,
  SearchStatsStore,
} from '@autolab/store';
import type { WorkerMetrics } from './metrics.js';
import { StoreRunSink } from './run-sink.js';

export interface RunPortStores {
  runs: RunStore;
  artifacts: ArtifactStore;
  hints: HintStore;
  lessons: LessonStore;
  searchStats: SearchStatsStore;
  /** AUTOLAB_EMBEDDINGS_MODEL's embedder, for hybrid retrieval; null: full-text search alone. */
  embeddings: LessonEmbeddings | null;
  metrics: WorkerMetrics;
}

/**
 * The ports of one run attempt that the worker's stores implement: where its events, progress, checkpoints and files
 * go (fenced by the attempt), the person's hints, and its tenant's lessons and search statistics.
 */
export function runPorts(
  stores: RunPortStores,
  run: { id: string; tenant: string },
  attempt: number,
  /** Credentials the worker holds: redacted from every event (run-sink.ts). */
  secrets: readonly string[] = [],
): Pick<ResearchPorts, 'sink' | 'hints' | 'lessons' | 'embeddings'> {
  const { hints, lessons, embeddings } = stores;
  return {
    ...(embeddings ? { embeddings: { model: embeddings.model, embed: (texts) => embeddings.embed(texts) } } : {}),
    sink: stores.metrics.meteredSink(new StoreRunSink(run.id, attempt, stores.runs, stores.artifacts, secrets)),
    hints: {
      list: () => hints.list(run.id),
      markApplied: (hintId, step) => hints.markApplied(run.id, hintId, step),
    },
    // The run's tenant's lessons (and those shared with it); what it learns goes to its tenant only.
    lessons: {
      retrieval: stores.embeddings ? 'hybrid' : 'fulltext',
      find: async (query) => {
        const semantic = stores.embeddings ? { semantic: stores.embeddings } : {};
        const found = await lessons.search(run.tenant, {
          q: query.text,
          kinds: query.kinds,
          limit: query.limit,
          ...semantic,
        });
        return found.hits.map((hit) => hit.lesson);
      },
      learn: (learned) => lessons.learn(run.tenant, learned),
      recordSearch: async (counts) => {
        await stores.searchStats.record(run.tenant, run.id, counts);
      },
    },
  };
}
