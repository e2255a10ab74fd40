import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Deletes every key under a test's Redis prefix. */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== '0');
}

/**
 * scikit-learn's iris table as CSV (columns sepal_length, sepal_width, petal_length, petal_width, species), exported
 * from the sandbox image with no network: real data for tests, computed independently of the service.
 */
export async function exportIrisCsv(
  image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest',
): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'docker',
    [
      'run',
      '--rm',
      '--network',
      'none',
      image,
      'python3',
      '-c',
      [
        'from sklearn.datasets import load_iris',
        'd = load_iris(as_frame=True)',
        'f = d.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))',
        'f["species"] = [d.target_names[t] for t in f.pop("target")]',
        'print(f.to_csv(index=False), end="")',
      ].join('\n'),
    ],
    { maxBuffer: 1 << 20 },
  );
  return stdout;
}

/** Entries of a tar archive (enough of the ustar format): name → content. Throws on a truncated archive. */
export function untar(tar: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) return files;
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').trim() || '0', 8);
    if (offset + 512 + size > tar.length) throw new Error(`truncated archive at ${name}`);
    files.set(prefix ? `${prefix}/${name}` : name, tar.subarray(offset + 512, offset + 512 + size));
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  throw new Error('the archive has no end-of-archive marker');
}
