import { createReadStream, type ReadStream } from 'node:fs';
import { appendFile, lstat, mkdir, readdir, rename, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
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
  /** Null when there is no such file. */
  open(runId: string, path: string): Promise<{ stream: ReadStream; size: number; mediaType: string } | null>;
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
    try {
      const info = await lstat(target);
      if (!info.isFile()) return null;
      return { stream: createReadStream(target), size: info.size, mediaType: mediaTypeOf(target) };
    } catch {
      return null;
    }
  }
}
