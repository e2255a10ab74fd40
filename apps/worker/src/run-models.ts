import type { RunModels } from '@autolab/contracts';
import { ChatLlm, ModelRouter } from '@autolab/llm';
import type { ModelModeStore } from '@autolab/store';
import type { WorkerConfig } from './env.js';
import type { Transcript } from './transcript.js';

/**
 * The run's model port: each call goes to the model of its role, at that model's endpoint (AUTOLAB_MODEL_ENDPOINTS)
 * or the default one, and every call is written to the run's transcript.
 */
export function runModelRouter(
  llm: WorkerConfig['llm'],
  runId: string,
  models: RunModels,
  modeCache: ModelModeStore,
  transcript: Transcript,
): ModelRouter {
  return new ModelRouter(models, (model) => {
    const endpoint = llm.endpoints[model];
    return new ChatLlm({
      baseUrl: endpoint?.baseUrl ?? llm.baseUrl,
      // Endpoints without keys (local servers) still need a non-empty string for the client.
      apiKey: endpoint?.apiKey ?? (llm.apiKey || 'not-set'),
      model,
      runId,
      timeoutMs: llm.timeoutMs,
      maxAttempts: llm.maxAttempts,
      prices: llm.prices,
      mode: endpoint?.mode ?? llm.mode,
      modeCache,
      ...(endpoint?.headers ? { headers: endpoint.headers } : {}),
      ...(endpoint?.query ? { query: endpoint.query } : {}),
      onCall: (entry) => transcript.append(entry),
    });
  });
}
