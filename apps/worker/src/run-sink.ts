import type { NewEvent } from '@autolab/contracts';
import type { RunProgress, RunSink } from '@autolab/engine';
import type { ArtifactStore, RunStore } from '@autolab/store';

/** The engine's RunSink for one run: events and progress go to Redis, files to the artifact store. */
export class StoreRunSink implements RunSink {
  constructor(
    private readonly runId: string,
    private readonly attempt: number,
    private readonly runs: RunStore,
    private readonly artifacts: ArtifactStore,
  ) {}

  async emit(event: NewEvent): Promise<void> {
    await this.runs.appendEvent(this.runId, event);
  }

  async progress(progress: RunProgress): Promise<void> {
    await this.runs.progress(this.runId, progress);
  }

  async saveCheckpoint(checkpoint: unknown): Promise<void> {
    await this.runs.saveCheckpoint(this.runId, checkpoint, this.attempt);
  }

  async saveArtifact(path: string, content: Buffer | string): Promise<void> {
    await this.artifacts.put(this.runId, path, content);
  }

  async loadArtifact(path: string): Promise<Buffer | null> {
    const file = await this.artifacts.open(this.runId, path);
    if (!file) return null;
    const chunks: Buffer[] = [];
    for await (const chunk of file.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }
}
