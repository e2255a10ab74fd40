import type { ApiClient } from '@autolab/api-client';
import { useEffect, useSyncExternalStore } from 'react';
import { TranscriptCache, type TranscriptState } from '../lib/transcript-cache.js';
import { useApi } from './api-context.js';

/** One cache per client: another key may be another tenant, whose runs this key must not see from a cache. */
const caches = new WeakMap<ApiClient, TranscriptCache>();

function cacheFor(client: ApiClient): TranscriptCache {
  let cache = caches.get(client);
  if (!cache) {
    cache = new TranscriptCache({ read: (runId) => client.readArtifactText(runId, 'transcript.jsonl') });
    caches.set(client, cache);
  }
  return cache;
}

/**
 * The run's model transcript, from the cache: read when first shown and again only when `version` (the run's count of
 * model calls, from its events) grows.
 */
export function useTranscript(runId: string, version: number): TranscriptState {
  const { client } = useApi();
  const cache = cacheFor(client);
  const state = useSyncExternalStore(cache.subscribe, () => cache.get(runId));
  useEffect(() => cache.want(runId, version), [cache, runId, version]);
  return state;
}
