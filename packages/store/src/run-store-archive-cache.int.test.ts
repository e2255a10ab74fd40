import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store.js';
import { RedisKeys } from './redis-keys.js';
import { EVENTS_FILE, serializeArchivedEvents } from './run-archive-files.js';
import { RunStore } from './run-store.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-archcache-${randomBytes(4).toString('hex')}`);
const dir = await mkdtemp(join(tmpdir(), 'autolab-archive-cache-'));

/** The local store, counting how often each run's archived event log is opened. */
class CountingStore extends LocalArtifactStore {
  readonly opened = new Map<string, number>();
  override async open(runId: string, path: string) {
    if (path === EVENTS_FILE) this.opened.set(runId, (this.opened.get(runId) ?? 0) + 1);
    return super.open(runId, path);
  }
}

/** A run whose first `count` events live only in the archive (as RunArchiver leaves it), ids `1-1` … `1-count`. */
async function archivedRun(store: ArtifactStore, count: number): Promise<string> {
  const runId = `run_${randomBytes(13).toString('hex').slice(0, 26)}`;
  const events = Array.from({ length: count }, (_, i) => [
    `1-${i + 1}`,
    JSON.stringify({ type: 'log', time: new Date(0).toISOString(), message: `event ${i + 1}`, data: {} }),
  ]) as [string, string][];
  await store.put(runId, EVENTS_FILE, serializeArchivedEvents(events));
  await redis.hset(keys.run(runId), 'id', runId, 'archivedThrough', `1-${count}`);
  return runId;
}

describe('archived event logs are read once per process, not once per page', () => {
  afterAll(async () => {
    const found = await redis.keys(`${keys.prefix}:*`);
    if (found.length) await redis.del(...found);
    await redis.quit();
    await rm(dir, { recursive: true, force: true });
  });

  it('pages through an archived log with one read of the file, also when pages are asked for at once', async () => {
    const archive = new CountingStore(dir);
    const runs = new RunStore(redis, keys, archive);
    const runId = await archivedRun(archive, 30);
    const pages = await Promise.all([runs.readEvents(runId, '0', 10), runs.readEvents(runId, '1-10', 10)]);
    expect(pages.flat().map((e) => e.id)).toEqual(Array.from({ length: 20 }, (_, i) => `1-${i + 1}`));
    expect((await runs.readEvents(runId, '1-20', 10)).map((e) => e.id)).toEqual(
      Array.from({ length: 10 }, (_, i) => `1-${i + 21}`),
    );
    expect(archive.opened.get(runId)).toBe(1);
  });

  it('keeps the logs read most recently (least recently used goes first) and reads again when the archive moved', async () => {
    const archive = new CountingStore(dir);
    const runs = new RunStore(redis, keys, archive);
    const busy = await archivedRun(archive, 5);
    await runs.readEvents(busy, '0', 5);
    // Many other runs are read once each, while the busy one keeps being read.
    for (let i = 0; i < 40; i++) {
      await runs.readEvents(await archivedRun(archive, 3), '0', 3);
      await runs.readEvents(busy, '0', 5);
    }
    expect(archive.opened.get(busy)).toBe(1);
    // A rerun of the run was archived again: its archivedThrough moved, so the cached log is not the whole one.
    await archive.put(
      busy,
      EVENTS_FILE,
      serializeArchivedEvents(
        Array.from({ length: 7 }, (_, i) => [
          `1-${i + 1}`,
          JSON.stringify({ type: 'log', time: new Date(0).toISOString(), message: `event ${i + 1}`, data: {} }),
        ]),
      ),
    );
    await redis.hset(keys.run(busy), 'archivedThrough', '1-7');
    expect((await runs.readEvents(busy, '0', 10)).map((e) => e.id)).toHaveLength(7);
    expect(archive.opened.get(busy)).toBe(2);
  });
});
