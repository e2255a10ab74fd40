import { join } from 'node:path';
import type { ArtifactStore } from './artifact-store.js';
import { type ArtifactStoreConfig, type OpenOptions, openArtifactStore } from './artifact-store-config.js';

/**
 * What a finished run keeps outside Redis once its retention has passed (see RunArchiver): its event log and its
 * last checkpoint, as two files in the artifact store (local directory or S3, through the `ArtifactStore` interface),
 * in a folder per run apart from the run's own files, so they never show up in its artifact listing or archive.
 */
export const EVENTS_FILE = 'events.jsonl';
export const STATE_FILE = 'state.json';

/** One archived event: its stream id and the stored entry exactly as Redis held it (the serialized event). */
export type ArchivedEvent = [id: string, entry: string];

/** The last checkpoint as Redis held it: the head and every node, as stored (JSON text). */
export interface ArchivedState {
  head: string;
  nodes: Record<string, string>;
}

/**
 * The store run archives go to: the artifact store's own kind and place, under `run-archive/` (run ids start with
 * `run_`, so no run's folder is called that; upload folders live under `uploads/` on S3 and elsewhere locally).
 */
export function openRunArchiveStore(config: ArtifactStoreConfig, options: OpenOptions): ArtifactStore {
  if (config.kind === 'local')
    return openArtifactStore({ kind: 'local', dir: join(config.dir, 'run-archive') }, options);
  return openArtifactStore(
    { ...config, prefix: config.prefix ? `${config.prefix}/run-archive` : 'run-archive' },
    options,
  );
}

export function serializeArchivedEvents(events: readonly ArchivedEvent[]): string {
  return events.map((event) => `${JSON.stringify(event)}\n`).join('');
}

/** The archived events of a run in stream order, or null when it has none archived. */
export async function readArchivedEvents(store: ArtifactStore, runId: string): Promise<ArchivedEvent[] | null> {
  const text = await readText(store, runId, EVENTS_FILE);
  if (text === null) return null;
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as ArchivedEvent);
}

export async function readArchivedState(store: ArtifactStore, runId: string): Promise<ArchivedState | null> {
  const text = await readText(store, runId, STATE_FILE);
  return text === null ? null : (JSON.parse(text) as ArchivedState);
}

async function readText(store: ArtifactStore, runId: string, path: string): Promise<string | null> {
  const file = await store.open(runId, path);
  if (!file) return null;
  const chunks: Buffer[] = [];
  for await (const chunk of file.stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
