import type { Readable } from 'node:stream';
import { normalizeRelativePath } from '@autolab/contracts';
import type { ReadFilesLimits, SandboxFile, SkippedFile } from '@autolab/engine';
import * as tar from 'tar-stream';

/** A tar archive of the files, for `tar -x` inside the sandbox. */
export async function packFiles(files: SandboxFile[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on('data', (c) => chunks.push(c as Buffer));
  const done = new Promise<void>((resolve, reject) => {
    pack.on('end', resolve);
    pack.on('error', reject);
  });
  for (const file of files) {
    const path = normalizeRelativePath(file.path);
    if (!path) throw new Error(`refusing to write outside the workspace: ${JSON.stringify(file.path)}`);
    pack.entry({ name: path, size: file.content.length, mode: 0o644 }, file.content);
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/**
 * Reads a tar stream produced inside the sandbox. Only regular files with clean relative paths are kept: links,
 * devices and anything that tries to climb out are skipped (never followed), as is whatever exceeds the limits
 * (the sandbox chooses within the limits before it archives; this holds them whatever the archive says).
 */
export async function unpackFiles(
  stream: Readable,
  limits: ReadFilesLimits,
): Promise<{ files: SandboxFile[]; skipped: SkippedFile[] }> {
  const extract = tar.extract();
  const files: SandboxFile[] = [];
  const skipped: SkippedFile[] = [];
  let total = 0;
  let failed: (err: Error) => void = () => undefined;
  extract.on('entry', (header, entry, next) => {
    // A stream that ends inside an entry (the container died, the exec was cut) errors the entry as well as the
    // extractor: without a listener here that error would be uncaught and take the whole worker down.
    entry.on('error', (err: Error) => failed(err));
    const path = normalizeRelativePath(header.name.replace(/\/$/, ''));
    const size = header.size ?? 0;
    const reason: SkippedFile['reason'] | null =
      header.type !== 'file'
        ? 'not_a_regular_file'
        : path === null
          ? 'unusable_name'
          : size > limits.maxFileBytes
            ? 'file_too_large'
            : total + size > limits.maxTotalBytes
              ? 'total_too_large'
              : files.length >= limits.maxFiles
                ? 'too_many_files'
                : null;
    if (reason) {
      if (header.type !== 'directory') skipped.push({ path: header.name, bytes: size, reason });
      entry.on('end', next);
      entry.resume();
      return;
    }
    const chunks: Buffer[] = [];
    entry.on('data', (c) => chunks.push(c as Buffer));
    entry.on('end', () => {
      const content = Buffer.concat(chunks);
      total += content.length;
      files.push({ path: path!, content });
      next();
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    failed = reject;
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.on('error', (err) => extract.destroy(err));
  stream.pipe(extract);
  await done;
  return { files, skipped };
}
