import { randomBytes } from 'node:crypto';
import { constants, createWriteStream } from 'node:fs';
import { appendFile, type FileHandle, lstat, mkdir, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, extname, join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
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

/**
 * The artifact store could not be used (S3 unreachable, refusing the credentials, answering 5xx) for longer than it
 * waits for it. Not the caller's fault: the API answers 503 `artifact_store_unavailable`, a run fails with
 * `artifact_store_unavailable`. The message names the store and the cause, never a credential.
 */
export class ArtifactStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** One file as `open()` gives it. */
export interface ArtifactFile {
  /** A plain Node stream of exactly `size` bytes. */
  stream: Readable;
  size: number;
  mediaType: string;
}

/**
 * Where a run's files live: a local directory (`LocalArtifactStore`) or an S3-compatible bucket (`S3ArtifactStore`).
 * Nothing in it is a local path: callers hand over bytes or streams and get streams back, so the API and the worker
 * work alike on either. Every method may throw `ArtifactStoreUnavailableError`.
 */
export interface ArtifactStore {
  /** Writes (or replaces) a whole file at once; readers see the old or the new version, never a part. */
  put(runId: string, path: string, content: Buffer | string): Promise<void>;
  /** Like `put`, from a stream of unknown length (multipart upload on S3), so a large file is never held in memory. */
  putStream(runId: string, path: string, source: Readable): Promise<void>;
  /**
   * Adds one chunk to the end of a file (creating it), for logs such as the model transcript. S3 has no append: each
   * call stores one more object, and `list`/`open` show the file as the concatenation of its chunks. So callers batch
   * (the transcript writes a chunk every few seconds), never one call per line.
   */
  append(runId: string, path: string, content: Buffer | string): Promise<void>;
  /** Every file of the run, sorted by path. */
  list(runId: string): Promise<ArtifactEntry[]>;
  /**
   * Null when there is no such file. The stream yields exactly `size` bytes: one version of the file as it was when
   * opened, whatever is appended to it or written over it while it is read (an archive records sizes up front).
   */
  open(runId: string, path: string): Promise<ArtifactFile | null>;
  /** Removes every file of the folder (a deleted upload's files); nothing there is fine. */
  remove(runId: string): Promise<void>;
  /** Resolves when the store answers (a start-up check); throws `ArtifactStoreUnavailableError` when it does not. */
  check(): Promise<void>;
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

  async putStream(runId: string, path: string, source: Readable): Promise<void> {
    const target = this.resolve(runId, path);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${randomBytes(4).toString('hex')}.partial`;
    try {
      await pipeline(source, createWriteStream(temp));
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
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
    return entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  async remove(runId: string): Promise<void> {
    if (!normalizeRelativePath(runId) || runId.includes('/')) throw new InvalidArtifactPathError(runId);
    await rm(join(this.root, runId), { recursive: true, force: true });
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true });
  }

  async open(runId: string, path: string): Promise<ArtifactFile | null> {
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
