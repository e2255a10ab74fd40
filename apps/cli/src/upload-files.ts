import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { UsageError } from './errors.js';

/** One file to upload: its path on this machine and the relative name the upload gives it. */
export interface LocalFile {
  name: string;
  path: string;
  size: number;
}

/**
 * The files a `--data` / `--code` PATH stands for: the file itself (an archive is unpacked by the server), or every
 * regular file under the directory with its path relative to it. Symbolic links are not followed.
 */
export async function collectFiles(path: string): Promise<LocalFile[]> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new UsageError(`cannot read ${path} (${error.code ?? 'unreadable'})`);
  });
  if (info.isFile()) return [{ name: basename(path), path, size: info.size }];
  if (!info.isDirectory()) throw new UsageError(`${path} is neither a file nor a directory`);
  const files: LocalFile[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of (await readdir(dir)).sort()) {
      const full = join(dir, entry);
      const entryInfo = await lstat(full);
      if (entryInfo.isDirectory()) await walk(full);
      else if (entryInfo.isFile())
        files.push({ name: relative(path, full).split(sep).join('/'), path: full, size: entryInfo.size });
    }
  };
  await walk(path);
  if (files.length === 0) throw new UsageError(`${path} holds no file to upload`);
  return files;
}

/**
 * A multipart/form-data body of the files, one `file` part each, streamed from disk (never read whole), with its
 * exact length (so a progress bar knows the total) and a callback as the bytes go out.
 */
export function multipartBody(
  files: LocalFile[],
  onProgress?: (bytes: number) => void,
): { contentType: string; length: number; stream: Readable } {
  const boundary = `autolab-${randomBytes(12).toString('hex')}`;
  const quote = (name: string) => name.replace(/["\r\n\\]/g, '_');
  const head = (file: LocalFile) =>
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${quote(file.name)}"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
  const tail = Buffer.from(`--${boundary}--\r\n`);
  const crlf = Buffer.from('\r\n');
  const length = files.reduce((sum, f) => sum + head(f).length + f.size + crlf.length, tail.length);
  async function* parts() {
    let sent = 0;
    const count = (chunk: Buffer) => {
      sent += chunk.length;
      onProgress?.(sent);
      return chunk;
    };
    for (const file of files) {
      yield count(head(file));
      for await (const chunk of createReadStream(file.path)) yield count(chunk as Buffer);
      yield count(crlf);
    }
    yield count(tail);
  }
  return { contentType: `multipart/form-data; boundary=${boundary}`, length, stream: Readable.from(parts()) };
}
