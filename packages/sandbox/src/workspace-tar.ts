import type { Readable } from 'node:stream';
import { normalizeRelativePath } from '@autolab/contracts';
import type { ReadFilesLimits, SandboxFile } from '@autolab/engine';
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
 * devices and anything that tries to climb out are skipped (never followed), as is whatever exceeds the limits.
 */
export async function unpackFiles(
  stream: Readable,
  limits: ReadFilesLimits,
): Promise<{ files: SandboxFile[]; skipped: string[] }> {
  const extract = tar.extract();
  const files: SandboxFile[] = [];
  const skipped: string[] = [];
  let total = 0;
  extract.on('entry', (header, entry, next) => {
    const path = normalizeRelativePath(header.name.replace(/\/$/, ''));
    const keep =
      header.type === 'file' &&
      path !== null &&
      files.length < limits.maxFiles &&
      (header.size ?? 0) <= limits.maxFileBytes &&
      total + (header.size ?? 0) <= limits.maxTotalBytes;
    if (!keep) {
      if (header.type !== 'directory') skipped.push(header.name);
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
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  stream.pipe(extract);
  await done;
  return { files, skipped };
}
