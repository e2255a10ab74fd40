import type { TranscriptEntry } from '@autolab/llm';
import type { ArtifactStore } from '@autolab/store';

/**
 * The run's full model transcript, one JSON line per call, in `transcript.jsonl`. Secrets are removed before a line
 * is written: the model key never appears in prompts, but a line is scrubbed anyway in case a reply echoes one.
 */
export class Transcript {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly artifacts: ArtifactStore,
    private readonly runId: string,
    private readonly secrets: string[],
  ) {}

  append(entry: TranscriptEntry): Promise<void> {
    let line = JSON.stringify(entry);
    for (const secret of this.secrets) if (secret.length >= 8) line = line.split(secret).join('[redacted]');
    this.chain = this.chain
      .then(() => this.artifacts.append(this.runId, 'transcript.jsonl', `${line}\n`))
      .catch(() => undefined);
    return this.chain;
  }
}
