import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { ArtifactStore } from './artifact-store.js';

export type ArchiveSubset = 'all' | 'paper' | 'code';

const SUBSETS: Record<ArchiveSubset, (path: string) => boolean> = {
  all: () => true,
  paper: (p) => p.startsWith('paper/') || p.startsWith('figures/'),
  code: (p) => p.startsWith('best/') || p.startsWith('nodes/') || p === 'plan.json' || p === 'journal.json',
};

/** A gzipped tar of a run's artifacts, produced file by file so memory stays flat for any archive size. */
export function archiveStream(store: ArtifactStore, runId: string, subset: ArchiveSubset): Readable {
  const pack = tar.pack();
  const fill = async () => {
    const entries = (await store.list(runId)).filter((e) => SUBSETS[subset](e.path));
    for (const entry of entries) {
      const file = await store.open(runId, entry.path);
      if (!file) continue;
      await new Promise<void>((resolve, reject) => {
        const sink = pack.entry({ name: `${runId}/${entry.path}`, size: file.size, mode: 0o644 }, (err) =>
          err ? reject(err) : resolve(),
        );
        file.stream.on('error', reject);
        file.stream.pipe(sink);
      });
    }
    pack.finalize();
  };
  fill().catch((err) => pack.destroy(err));
  return pack.pipe(createGzip());
}
