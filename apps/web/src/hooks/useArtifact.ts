import { useEffect, useState } from 'react';
import { toProblem } from '../lib/api.js';
import { useApi } from './api-context.js';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'ready'; value: T }
  | { state: 'error'; message: string; status?: number };

/** Fetches a run's file with the key as a blob URL (revoked when no longer used). */
export function useArtifactBlobUrl(runId: string, path: string | null, reloadKey: unknown = null): Loaded<string> {
  const { client } = useApi();
  const [loaded, setLoaded] = useState<Loaded<string>>({ state: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey forces a refetch
  useEffect(() => {
    if (!path) return;
    let url: string | null = null;
    let cancelled = false;
    setLoaded({ state: 'loading' });
    client
      .openArtifact(runId, path)
      .then((download) => new Response(download.body).blob())
      .then((blob) => {
        if (cancelled) return;
        url = URL.createObjectURL(blob);
        setLoaded({ state: 'ready', value: url });
      })
      .catch((err: unknown) => {
        if (!cancelled) setLoaded(failed(err));
      });
    return () => {
      cancelled = true;
      if (url) URL.revokeObjectURL(url);
    };
  }, [runId, path, client, reloadKey]);
  return loaded;
}

/** Fetches a run's text file (code, JSON) with the key. */
export function useArtifactText(runId: string, path: string | null, reloadKey: unknown = null): Loaded<string> {
  const { client } = useApi();
  const [loaded, setLoaded] = useState<Loaded<string>>({ state: 'loading' });
  // biome-ignore lint/correctness/useExhaustiveDependencies: reloadKey forces a refetch
  useEffect(() => {
    if (!path) return;
    let cancelled = false;
    setLoaded({ state: 'loading' });
    client
      .readArtifactText(runId, path)
      .then((text) => {
        if (!cancelled) setLoaded({ state: 'ready', value: text });
      })
      .catch((err: unknown) => {
        if (!cancelled) setLoaded(failed(err));
      });
    return () => {
      cancelled = true;
    };
  }, [runId, path, client, reloadKey]);
  return loaded;
}

/** A failed load, with the HTTP status when the API answered (a 404 means "not written yet"). */
function failed(err: unknown): Loaded<never> {
  const problem = toProblem(err);
  return { state: 'error', message: problem.message, ...(problem.status ? { status: problem.status } : {}) };
}
