import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar-stream';
import * as yauzl from 'yauzl';

export type ArchiveKind = 'tar.gz' | 'tar' | 'zip';

/** The archive format a file name announces, or null for any other file. */
export function archiveKind(name: string): ArchiveKind | null {
  const lower = name.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  if (lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.zip')) return 'zip';
  return null;
}

/** What an entry is; anything but `file` and `directory` is refused by the caller. */
export type EntryType = 'file' | 'directory' | 'symbolic link' | 'hard link' | 'device' | 'fifo' | 'special entry';

/** Called once per entry, in archive order; `open` gives the entry's content (call it at most once, for files). */
export type EntryVisitor = (name: string, type: EntryType, open: () => Promise<Readable>) => Promise<void>;

/** A malformed archive (not gzip, truncated, a zip with a bad central directory…). */
export class ArchiveFormatError extends Error {
  constructor(kind: ArchiveKind, cause: unknown) {
    super(`The ${kind} archive cannot be read: ${cause instanceof Error ? cause.message : String(cause)}.`);
    this.name = this.constructor.name;
  }
}

const TAR_TYPES: Record<string, EntryType> = {
  file: 'file',
  'contiguous-file': 'file',
  directory: 'directory',
  symlink: 'symbolic link',
  link: 'hard link',
  'character-device': 'device',
  'block-device': 'device',
  fifo: 'fifo',
};

/**
 * Walks an archive on disk entry by entry, streaming each file's content: nothing is held whole in memory, and the
 * visitor decides (and refuses) before anything is written. Errors of the visitor are passed through unchanged;
 * errors of the format become `ArchiveFormatError`.
 */
export async function unpackArchive(file: string, kind: ArchiveKind, visit: EntryVisitor): Promise<void> {
  if (kind === 'zip') return unpackZip(file, visit);
  return unpackTar(file, kind, visit);
}

async function unpackTar(file: string, kind: 'tar' | 'tar.gz', visit: EntryVisitor): Promise<void> {
  const extract = tar.extract();
  const source = createReadStream(file);
  const input = kind === 'tar.gz' ? source.pipe(createGunzip()) : source;
  let visitorError: unknown = null;
  input.on('error', (err: Error) => extract.destroy(err));
  input.pipe(extract);
  try {
    for await (const entry of extract) {
      const type = TAR_TYPES[entry.header.type ?? 'file'] ?? 'special entry';
      let opened = false;
      try {
        await visit(entry.header.name, type, async () => {
          opened = true;
          // tar-stream's entries are streamx streams; the visitor gets a Node stream.
          return Readable.from(entry, { objectMode: false });
        });
      } catch (err) {
        visitorError = err;
        throw err;
      }
      if (!opened) entry.resume();
    }
  } catch (err) {
    throw err === visitorError ? err : new ArchiveFormatError(kind, err);
  } finally {
    source.destroy();
  }
}

async function unpackZip(file: string, visit: EntryVisitor): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    // validateEntrySizes: an entry whose data is longer than its header says is an error, not a surprise.
    zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
      yauzl.open(
        file,
        { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: true },
        (err, z) => (err || !z ? reject(err) : resolve(z)),
      ),
    );
  } catch (err) {
    throw new ArchiveFormatError('zip', err);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false;
      const fail = (err: unknown, fromVisitor: boolean) => {
        if (failed) return;
        failed = true;
        reject(fromVisitor ? err : new ArchiveFormatError('zip', err));
      };
      zip.on('error', (err) => fail(err, false));
      zip.on('end', () => resolve());
      zip.on('entry', (entry: yauzl.Entry) => {
        const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
        const type: EntryType = entry.fileName.endsWith('/')
          ? 'directory'
          : mode === 0o120000
            ? 'symbolic link'
            : mode === 0 || mode === 0o100000
              ? 'file'
              : mode === 0o040000
                ? 'directory'
                : 'special entry';
        const open = () =>
          new Promise<Readable>((res, rej) =>
            zip.openReadStream(entry, (err, stream) =>
              err || !stream ? rej(new ArchiveFormatError('zip', err)) : res(stream),
            ),
          );
        visit(entry.fileName, type, open).then(
          () => zip.readEntry(),
          (err) => fail(err, !(err instanceof ArchiveFormatError)),
        );
      });
      zip.readEntry();
    });
  } finally {
    zip.close();
  }
}
