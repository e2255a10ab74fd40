import { mkdir, readdir, utimes } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { RedisKeys, UploadStore } from '@autolab/store';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../api-process.js';

/**
 * `kill -9` of the API in the middle of an upload: the half-written draft is invisible (no record, nothing counted
 * against the tenant), and the next API process removes it once no request could still be writing it. A directory
 * that was moved into place but never committed (killed between the two) goes too; committed uploads stay.
 */
const TIMEOUTS = {
  AUTOLAB_REQUEST_TIMEOUT_SECONDS: '3',
  AUTOLAB_HEADERS_TIMEOUT_SECONDS: '2',
  AUTOLAB_BODY_TIMEOUT_SECONDS: '2',
};
let first: ApiProcess | null = null;
let second: ApiProcess | null = null;
const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: 1 });

afterAll(async () => {
  first?.child.kill('SIGKILL');
  await second?.stop();
  redis.disconnect();
});

const uploadsDir = (api: ApiProcess) => join(api.dataDir, 'uploads');

describe('an upload cut by kill -9 of the API', () => {
  it('leaves nothing visible, and the next API process removes the draft', async () => {
    first = await startApiProcess({ env: TIMEOUTS });
    const key = await first.createKey('acme');
    // Half an upload: the headers and the start of a 4 MB file part, then silence.
    const boundary = 'autolab-kill-test';
    const socket = connect(first.port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      [
        'POST /v1/uploads HTTP/1.1',
        `Host: 127.0.0.1:${first.port}`,
        `Authorization: Bearer ${key}`,
        `Content-Type: multipart/form-data; boundary=${boundary}`,
        `Content-Length: ${4 * 1024 * 1024 + 200}`,
        '',
        `--${boundary}`,
        'Content-Disposition: form-data; name="file"; filename="big.bin"',
        'Content-Type: application/octet-stream',
        '',
        'x'.repeat(256 * 1024),
      ].join('\r\n'),
    );
    const dir = uploadsDir(first);
    const drafts = async () => (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.partial'));
    for (let i = 0; (await drafts()).length === 0; i++) {
      if (i > 100) throw new Error('the API never started writing the upload');
      await new Promise((r) => setTimeout(r, 50));
    }
    const [draft] = await drafts();
    first.child.kill('SIGKILL');
    socket.destroy();
    // Nothing is visible or counted: the upload has no record.
    const keys = new RedisKeys(first.prefix);
    expect(await redis.exists(keys.upload(draft!.replace('.partial', '')))).toBe(0);
    expect(await redis.get(keys.tenantUploadBytes('acme'))).toBeNull();

    // A directory moved into place whose commit never ran (its record is missing), dated two minutes back.
    const orphan = `upl_${'0'.repeat(25)}1`;
    await mkdir(join(dir, orphan, 'files'), { recursive: true });
    const past = new Date(Date.now() - 120_000);
    await utimes(join(dir, orphan), past, past);
    // ctime cannot be set back: ask the store directly, as if two minutes had passed.
    const store = new UploadStore(redis, keys, dir);
    expect(await store.sweepAbandoned(3_000, Date.now() + 120_000)).toEqual(expect.arrayContaining([orphan]));

    // Past the request timeout no request can still be writing the draft: the next API process removes it.
    await new Promise((r) => setTimeout(r, 3_500));
    second = await startApiProcess({ env: TIMEOUTS, after: first });
    expect(await drafts()).toEqual([]);
    // And the service works as before: a new upload of the same tenant is stored and listed alone.
    const form = new FormData();
    form.append('file', new Blob(['a,b\n1,2\n']), 'train.csv');
    const created = await fetch(`${second.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: string };
    const listed = (await (
      await fetch(`${second.url}/v1/uploads`, { headers: { authorization: `Bearer ${key}` } })
    ).json()) as { uploads: { id: string }[] };
    expect(listed.uploads.map((u) => u.id)).toEqual([id]);
    // A committed upload is never swept, however old.
    expect(await store.sweepAbandoned(3_000, Date.now() + 3_600_000)).toEqual([]);
    expect(await readdir(dir)).toEqual([id]);
  }, 120_000);
});
