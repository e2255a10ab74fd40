import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import type { Download } from '@autolab/api-client';
import { networkReason } from '@autolab/api-client';
import * as tar from 'tar-stream';
import { ProtocolError, UnreachableError } from './errors.js';

export interface SavedFile {
  path: string;
  bytes: number;
}

export interface SaveOptions {
  /** Verifies the complete temporary file before it is renamed into place (throws to refuse it). */
  check?: (tempPath: string) => Promise<void>;
  /** Bytes received so far, called as they arrive. */
  onProgress?: (bytes: number) => void;
  /** Stops the download; the temporary file is removed. */
  signal?: AbortSignal;
}

/**
 * Streams a download to `destination` through a temporary file beside it, renamed into place only once complete
 * (and, with `check`, verified): an interrupted download never leaves a truncated file under the final name.
 */
export async function saveDownload(
  download: Download,
  destination: string,
  options: SaveOptions = {},
): Promise<SavedFile> {
  const temp = join(dirname(destination), `.${basename(destination)}.${randomBytes(4).toString('hex')}.part`);
  let received = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      received += chunk.length;
      options.onProgress?.(received);
      done(null, chunk);
    },
  });
  try {
    try {
      const body = Readable.fromWeb(download.body as NodeReadableStream<Uint8Array>);
      await pipeline(body, counter, createWriteStream(temp), { signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      if (isLocalFileError(error)) throw error;
      throw new UnreachableError(`the download of ${basename(destination)} broke off (${networkReason(error)})`, {
        cause: error,
      });
    }
    const { size } = await stat(temp);
    if (download.size !== null && size !== download.size) {
      throw new ProtocolError(`${basename(destination)}: received ${size} of ${download.size} bytes`);
    }
    await options.check?.(temp);
    await rename(temp, destination);
    return { path: destination, bytes: size };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Node's file system errors carry the failing system call; fetch's network errors do not. */
const isLocalFileError = (error: unknown): boolean => error instanceof Error && 'syscall' in error;

export interface ArchiveSummary {
  files: number;
}

/** Reads a `.tar.gz` to its end: proves it is complete and counts its files. */
export async function inspectArchive(path: string, name = basename(path)): Promise<ArchiveSummary> {
  const extract = tar.extract();
  let files = 0;
  const counting = (async () => {
    for await (const entry of extract) {
      if (entry.header.type === 'file') files++;
      // A truncated archive errors the entry too; the extractor's error (below) is the one reported.
      entry.on('error', () => undefined);
      entry.resume();
    }
  })();
  try {
    await Promise.all([pipeline(createReadStream(path), createGunzip(), extract), counting]);
  } catch (error) {
    throw new ProtocolError(`${name} is not a complete .tar.gz archive (${networkReason(error)})`, {
      cause: error,
    });
  }
  return { files };
}
