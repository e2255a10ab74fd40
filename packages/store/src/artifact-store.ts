import { constants } from 'node:fs';
import { appendFile, type FileHandle, lstat, mkdir, open, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import type { ArtifactEntry } from '@autolab/contracts';
import { normalizeRelativePath } from '@autolab/contracts';

const MEDIA_TYPES: Record<string, string> = {
  '.pdf': 'application/pdf',
  '.tex': 'text/x-tex; charset=utf-8',
  '.bib': 'text/x-bibtex; charset=utf-8',
  '.py': 'text/x-python; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.jsonl': 'application/x-ndjson',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.gz': 'application/gzip',
};

export const mediaTypeOf = (path: string): string =>
  MEDIA_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';

export class InvalidArtifactPathError extends Error {
  constructor(path: string) {
    super(`not a valid artifact path: ${JSON.stringify(path)}`);
    this.name = this.constructor.name;
  }
}

/** Where a run's files live. Local directory today; an S3-compatible store can implement the same surface. */
export interface ArtifactStore {
  put(runId: string, path: string, content: Buffer | string): Promise<void>;
  /** Adds to the end of a file (creating it), for logs such as the model transcript. */
  append(runId: string, path: string, content: Buffer | string): Promise<void>;
  list(runId: string): Promise<ArtifactEntry[]>;
  /**
   * Null when there is no such file. The stream yields exactly `size` bytes: one version of the file as it was when
   * opened, whatever is appended to it or renamed over it while it is read (an archive records sizes up front).
   */
  open(runId: string, path: string): Promise<{ stream: Readable; size: number; mediaType: string } | null>;
}

/** Files under `<root>/<runId>/`. Paths are validated so nothing can escape a run's directory. */
export class LocalArtifactStore implements ArtifactStore {
  constructor(private readonly root: string) {}

  private resolve(runId: string, path: string): string {
    const clean = normalizeRelativePath(path);
    if (!clean || !normalizeRelativePath(runId)) throw new InvalidArtifactPathError(path);
    return join(this.root, runId, clean);
  }

  async put(runId: string, path: string, content: Buffer | string): Promise<void> {
    const target = this.resolve(runId, path);
    await mkdir(dirname(target), { recursive: true });
    // Readers never see a half-written file.
    const temp = `${target}.${process.pid}.${Date.now()}.partial`;
    await writeFile(temp, content);
    await rename(temp, target);
  }

  async append(runId: string, path: string, content: Buffer | string): Promise<void> {
    const target = this.resolve(runId, path);
    await mkdir(dirname(target), { recursive: true });
    await appendFile(target, content);
  }

  async list(runId: string): Promise<ArtifactEntry[]> {
    const base = join(this.root, runId);
    const entries: ArtifactEntry[] = [];
    const walk = async (dir: string): Promise<void> => {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch {
        return;
      }
      for (const name of names.sort()) {
        if (name.endsWith('.partial')) continue;
        const full = join(dir, name);
        const info = await lstat(full);
        if (info.isDirectory()) await walk(full);
        else if (info.isFile()) {
          const path = relative(base, full).split('\\').join('/');
          entries.push({ path, size: info.size, mediaType: mediaTypeOf(path) });
        }
      }
    };
    await walk(base);
    return entries;
  }

  async open(runId: string, path: string) {
    const target = this.resolve(runId, path);
    let handle: FileHandle;
    try {
      // Not through a link (a sandbox could have planted one), and never blocking on a FIFO.
      handle = await open(target, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch {
      return null;
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        await handle.close();
        return null;
      }
      // The open handle pins this version of the file (a rename over it does not change what it reads), and `end`
      // stops at the size recorded now (an append after this moment is not read).
      if (info.size === 0) {
        await handle.close();
        return { stream: Readable.from([]), size: 0, mediaType: mediaTypeOf(target) };
      }
      return {
        stream: handle.createReadStream({ start: 0, end: info.size - 1 }),
        size: info.size,
        mediaType: mediaTypeOf(target),
      };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
}
