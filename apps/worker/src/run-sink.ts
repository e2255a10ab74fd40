import type { NewEvent } from '@autolab/contracts';
import { ArtifactsUnavailableError, type CheckpointWrite, type RunProgress, type RunSink } from '@autolab/engine';
import { type ArtifactStore, ArtifactStoreUnavailableError, type RunStore } from '@autolab/store';
import { redactValue } from './secrets.js';

/** The store's outage, in the engine's terms (it knows nothing of S3). */
async function translated<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (err) {
    if (err instanceof ArtifactStoreUnavailableError) throw new ArtifactsUnavailableError(err.message, { cause: err });
    throw err;
  }
}

/**
 * The engine's RunSink for one run: events and progress go to Redis, files to the artifact store. An event's text
 * often quotes what a service answered (an endpoint's error message), which may echo a credential: every secret the
 * worker holds is redacted from events before they are stored.
 */
export class StoreRunSink implements RunSink {
  constructor(
    private readonly runId: string,
    private readonly attempt: number,
    private readonly runs: RunStore,
    private readonly artifacts: ArtifactStore,
    private readonly secrets: readonly string[] = [],
  ) {}

  async emit(event: NewEvent): Promise<void> {
    await this.runs.appendEvent(this.runId, redactValue(event, this.secrets));
  }

  async progress(progress: RunProgress): Promise<void> {
    await this.runs.progress(this.runId, progress);
  }

  async saveCheckpoint(checkpoint: CheckpointWrite): Promise<void> {
    await this.runs.saveCheckpoint(this.runId, checkpoint, this.attempt);
  }

  async saveArtifact(path: string, content: Buffer | string): Promise<void> {
    await translated(this.artifacts.put(this.runId, path, content));
  }

  async loadArtifact(path: string): Promise<Buffer | null> {
    return translated(
      (async () => {
        const file = await this.artifacts.open(this.runId, path);
        if (!file) return null;
        const chunks: Buffer[] = [];
        for await (const chunk of file.stream) chunks.push(chunk as Buffer);
        return Buffer.concat(chunks);
      })(),
    );
  }
}
