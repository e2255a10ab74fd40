import { useEffect, useState } from 'react';
import { artifactUrl, fetchWithKey } from '../lib/api.js';
import { useApi } from './api-context.js';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ready'; value: T }
  | { state: 'error'; message: string; status?: number };

/** Fetches a run's file with the key as a blob URL (revoked when no longer used). */
export function useArtifactBlobUrl(runId: string, path: string | null, reloadKey: unknown = null): Loaded<string> {
  const { apiKey } = useApi();
  const [loaded, setLoaded] = useState<Loaded<string>>({ state: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey forces a refetch
  useEffect(() => {
    if (!path) return;
    let url: string | null = null;
    let cancelled = false;
    setLoaded({ state: 'loading' });
    fetchWithKey(artifactUrl(runId, path), apiKey)
      .then((res) => res.blob())
      .then((blob) => {
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setLoaded({ state: 'ready', value: url });
      })
      .catch((err: Error & { status?: number }) => {
        if (!cancelled) setLoaded({ state: 'error', message: err.message, status: err.status });
      });
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [runId, path, apiKey, reloadKey]);
  return loaded;
}

/** Fetches a run's text file (code, JSON) with the key. */
export function useArtifactText(runId: string, path: string | null, reloadKey: unknown = null): Loaded<string> {
  const { apiKey } = useApi();
  const [loaded, setLoaded] = useState<Loaded<string>>({ state: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey forces a refetch
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    setLoaded({ state: 'loading' });
    fetchWithKey(artifactUrl(runId, path), apiKey)
      .then((res) => res.text())
      .then((text) => {
        if (!cancelled) setLoaded({ state: 'ready', value: text });
      })
      .catch((err: Error & { status?: number }) => {
        if (!cancelled) setLoaded({ state: 'error', message: err.message, status: err.status });
      });
    return () => {
      cancelled = true;
    };
  }, [runId, path, apiKey, reloadKey]);
  return loaded;
}
