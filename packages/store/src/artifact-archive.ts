import type { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import type { ArtifactStore } from './artifact-store.js';

export type ArchiveSubset = 'all' | 'paper' | 'code';

const SUBSETS: Record<ArchiveSubset, (path: string) => boolean> = {
  all: () => true,
  // An evolve run's "paper" is its report and figure; its code, every candidate's program and the database.
  paper: (p) =>
    p.startsWith('paper/') ||
    p.startsWith('figures/') ||
    p === 'evolve/report.md' ||
    (p.endsWith('.png') && p.startsWith('evolve/')),
  code: (p) =>
    p.startsWith('best/') ||
    p.startsWith('nodes/') ||
    p === 'plan.json' ||
    p === 'journal.json' ||
    (p.startsWith('evolve/') && !p.endsWith('.png') && p !== 'evolve/report.md'),
};

/**
 * A gzipped tar of a run's artifacts, produced file by file so memory stays flat for any archive size.
 *
 * The listing is read before anything is sent, so a store that cannot be reached fails here (the API answers 503 in
 * its error shape) rather than as a broken download. Every later failure (a file that cannot be read, the client
 * going away) ends up as an error or close of the returned stream and nowhere else: the caller (the HTTP reply)
 * aborts its own response, and no other request is affected.
 */
export async function archiveStream(store: ArtifactStore, runId: string, subset: ArchiveSubset): Promise<Readable> {
  const entries = (await store.list(runId)).filter((e) => SUBSETS[subset](e.path));
  const pack = tar.pack();
  const gzip = createGzip();
  // With a callback, the pipe owns both ends' errors: an error of the pack destroys the gzip stream with it (which the
  // reply sees), and a gzip stream closed early (the client left) destroys the pack, so the next entry() throws and
  // the loop below stops.
  pack.pipe(gzip, () => undefined);
  const fill = async () => {
    for (const entry of entries) {
      const file = await store.open(runId, entry.path);
      if (!file) continue;
      try {
        // The store's stream yields exactly `file.size` bytes, so the size written into the header holds even while
        // the file grows or is replaced.
        await new Promise<void>((resolve, reject) => {
          const sink = pack.entry({ name: `${runId}/${entry.path}`, size: file.size, mode: 0o644 }, (err) =>
            err ? reject(err) : resolve(),
          );
          sink.on('error', reject);
          file.stream.on('error', (err) => sink.destroy(err));
          file.stream.pipe(sink);
        });
      } finally {
        file.stream.destroy();
      }
    }
    pack.finalize();
  };
  fill().catch((err: Error) => pack.destroy(err));
  return gzip;
}
