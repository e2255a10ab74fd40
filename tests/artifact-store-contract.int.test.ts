import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import {
  type ArtifactStore,
  ArtifactStoreUnavailableError,
  archiveStream,
  InvalidArtifactPathError,
  LocalArtifactStore,
  S3ArtifactStore,
} from '@autolab/store';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type S3Server, startS3Server } from './s3-server.js';

/**
 * One contract, two stores: everything the API and the worker rely on behaves the same on a local directory and on
 * an S3-protocol server (real HTTP, the real AWS SDK).
 */
let s3: S3Server;
let localRoot: string;

const read = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
};
const text = async (stream: Readable) => (await read(stream)).toString('utf8');
const newRun = () => `run_${randomBytes(6).toString('hex')}`;

const s3Store = (overrides: Partial<ConstructorParameters<typeof S3ArtifactStore>[0]> = {}) =>
  new S3ArtifactStore({
    bucket: s3.bucket,
    prefix: 'contract/runs',
    region: 'us-east-1',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    retryMs: 0,
    ...overrides,
  });

beforeAll(async () => {
  s3 = await startS3Server();
  localRoot = await mkdtemp(join(tmpdir(), 'artifact-contract-'));
});
afterAll(async () => {
  await s3?.close();
  await rm(localRoot, { recursive: true, force: true });
});

describe.each([
  ['local directory', () => new LocalArtifactStore(localRoot) as ArtifactStore],
  ['S3', () => s3Store() as ArtifactStore],
])('ArtifactStore contract: %s', (_name, make) => {
  let store: ArtifactStore;
  beforeAll(() => {
    store = make();
  });

  it('answers check()', async () => {
    await store.check();
  });

  it('stores whole files, replaces them, and lists every file of a run sorted by path with size and type', async () => {
    const run = newRun();
    await store.put(run, 'paper/paper.tex', '\\section{A}');
    await store.put(run, 'a.txt', 'first');
    await store.put(run, 'a.txt', 'second version');
    await store.put(run, 'nodes/n001/results.json', Buffer.from('{"acc":1}'));
    await store.put(run, 'empty.txt', '');
    await store.put(newRun(), 'other.txt', 'another run');
    expect(await store.list(run)).toEqual([
      { path: 'a.txt', size: 14, mediaType: 'text/plain; charset=utf-8' },
      { path: 'empty.txt', size: 0, mediaType: 'text/plain; charset=utf-8' },
      { path: 'nodes/n001/results.json', size: 9, mediaType: 'application/json' },
      { path: 'paper/paper.tex', size: 11, mediaType: 'text/x-tex; charset=utf-8' },
    ]);
    const file = (await store.open(run, 'a.txt'))!;
    expect(file.stream).toBeInstanceOf(Readable);
    expect([file.size, file.mediaType, await text(file.stream)]).toEqual([
      14,
      'text/plain; charset=utf-8',
      'second version',
    ]);
    const empty = (await store.open(run, 'empty.txt'))!;
    expect([empty.size, await text(empty.stream)]).toEqual([0, '']);
    expect(await store.list(newRun())).toEqual([]);
  });

  it('answers null for a missing file or a folder, and refuses paths that leave the run', async () => {
    const run = newRun();
    await store.put(run, 'dir/file.txt', 'x');
    expect(await store.open(run, 'missing.txt')).toBeNull();
    expect(await store.open(run, 'dir')).toBeNull();
    for (const bad of ['../escape.txt', '/abs.txt', 'a/../../b', '~chunks/x', ''])
      await expect(store.put(run, bad, 'x'), bad).rejects.toBeInstanceOf(InvalidArtifactPathError);
    await expect(store.open(run, '../x')).rejects.toBeInstanceOf(InvalidArtifactPathError);
    await expect(store.put('../other', 'a.txt', 'x')).rejects.toBeInstanceOf(InvalidArtifactPathError);
  });

  it('appends chunks that read back as one file, in order, after what was put before', async () => {
    const run = newRun();
    await store.put(run, 'transcript.jsonl', 'head\n');
    for (let i = 0; i < 25; i++) await store.append(run, 'transcript.jsonl', `line ${i}\n`);
    await store.append(run, 'logs/new.log', 'created by append\n');
    const expected = `head\n${Array.from({ length: 25 }, (_, i) => `line ${i}\n`).join('')}`;
    const listed = await store.list(run);
    expect(listed).toEqual([
      { path: 'logs/new.log', size: 18, mediaType: 'text/plain; charset=utf-8' },
      { path: 'transcript.jsonl', size: Buffer.byteLength(expected), mediaType: 'application/x-ndjson' },
    ]);
    const file = (await store.open(run, 'transcript.jsonl'))!;
    expect(file.size).toBe(Buffer.byteLength(expected));
    expect(await text(file.stream)).toBe(expected);
    expect(await text((await store.open(run, 'logs/new.log'))!.stream)).toBe('created by append\n');
  });

  it('reads one version: what is appended or put after open() is not part of that read', async () => {
    const run = newRun();
    await store.append(run, 'transcript.jsonl', 'one\n');
    const grown = (await store.open(run, 'transcript.jsonl'))!;
    await store.append(run, 'transcript.jsonl', 'two\n');
    expect(grown.size).toBe(4);
    expect(await text(grown.stream)).toBe('one\n');

    await store.put(run, 'a.txt', 'old');
    const replaced = (await store.open(run, 'a.txt'))!;
    await store.put(run, 'a.txt', 'a new and longer version');
    expect(await text(replaced.stream)).toBe('old');
  });

  it('stores a stream of unknown length (more than one multipart part) without holding it whole', async () => {
    const run = newRun();
    const part = randomBytes(1024 * 1024);
    // 6 MiB in 1 MiB pieces: over the 5 MiB part size of an S3 multipart upload.
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 6; i++) yield part;
      })(),
    );
    await store.putStream(run, 'big/data.bin', source);
    const file = (await store.open(run, 'big/data.bin'))!;
    expect(file.size).toBe(6 * part.length);
    const back = await read(file.stream);
    expect(back.equals(Buffer.concat(Array.from({ length: 6 }, () => part)))).toBe(true);
    // A reader that stops early, or never starts, can destroy its stream; the store holds nothing open for it (a
    // leaked S3 response would hold one of the client's sockets for good).
    for (let i = 0; i < 120; i++) {
      const early = (await store.open(run, 'big/data.bin'))!;
      if (i % 2 === 0) for await (const _chunk of early.stream) break;
      else early.stream.destroy();
      expect(early.stream.destroyed).toBe(true);
    }
    expect((await read((await store.open(run, 'big/data.bin'))!.stream)).length).toBe(6 * part.length);
  });

  it("stores nothing when the stream it is given fails midway, and rejects with that stream's error", async () => {
    const run = newRun();
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(64 * 1024);
        throw new Error('the source broke');
      })(),
    );
    await expect(store.putStream(run, 'broken.bin', failing)).rejects.toThrow('the source broke');
    expect(await store.open(run, 'broken.bin')).toBeNull();
    expect(await store.list(run)).toEqual([]);
  });

  it('removes every file of a folder, chunks included, and nothing of another', async () => {
    const [run, other] = [newRun(), newRun()];
    await store.put(run, 'a.txt', 'x');
    await store.put(run, 'deep/b.txt', 'y');
    await store.append(run, 'transcript.jsonl', 'z\n');
    await store.put(other, 'a.txt', 'kept');
    await store.remove(run);
    expect(await store.list(run)).toEqual([]);
    expect(await store.open(run, 'transcript.jsonl')).toBeNull();
    expect((await store.list(other)).map((e) => e.path)).toEqual(['a.txt']);
    await store.remove(newRun());
  });

  it('feeds an archive: every file, chunked ones whole', async () => {
    const run = newRun();
    await store.put(run, 'paper/paper.pdf', Buffer.from('%PDF-1.5 fake'));
    await store.append(run, 'transcript.jsonl', '{"a":1}\n');
    await store.append(run, 'transcript.jsonl', '{"b":2}\n');
    const tar = gunzipSync(await read(await archiveStream(store, run, 'all'))).toString('latin1');
    expect(tar).toContain(`${run}/paper/paper.pdf`);
    expect(tar).toContain('%PDF-1.5 fake');
    expect(tar).toContain(`${run}/transcript.jsonl`);
    expect(tar).toContain('{"a":1}\n{"b":2}\n');
  });
});

describe('S3ArtifactStore on its own', () => {
  it('keeps runs under the prefix and an appended file as chunk objects (S3 has no append)', async () => {
    const store = s3Store({ prefix: 'only/here' });
    const run = newRun();
    await store.put(run, 'a.txt', 'x');
    await store.append(run, 'transcript.jsonl', 'one\n');
    await store.append(run, 'transcript.jsonl', 'two\n');
    const raw = new S3Client({
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
    });
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `only/here/${run}/` }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!.slice(`only/here/${run}/`.length));
    expect(keys[0]).toBe('a.txt');
    expect(keys.slice(1)).toHaveLength(2);
    for (const key of keys.slice(1)) expect(key).toMatch(/^~chunks\/transcript\.jsonl\/\d{15}-\d{6}-[0-9a-f]{6}$/);
    raw.destroy();
  });

  it('refused credentials: ArtifactStoreUnavailableError at once, naming the store and the cause, not the secret', async () => {
    const store = s3Store({ credentials: { accessKeyId: 'WRONGKEY', secretAccessKey: 'wrong-secret-0123456789' } });
    const started = Date.now();
    const err = await store.put(newRun(), 'a.txt', 'x').catch((e: Error) => e);
    expect(err).toBeInstanceOf(ArtifactStoreUnavailableError);
    expect((err as Error).message).toMatch(/s3:\/\/autolab-test\/contract\/runs .*InvalidAccessKeyId/);
    expect((err as Error).message).not.toContain('wrong-secret');
    expect(await store.check().catch((e: Error) => e)).toBeInstanceOf(ArtifactStoreUnavailableError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('an unreachable server: fails fast without a retry window, and waits out a short outage with one', async () => {
    const run = newRun();
    const waiting = s3Store({ retryMs: 20_000 });
    await waiting.put(run, 'before.txt', 'stored before the outage');
    await s3.stop();
    try {
      const started = Date.now();
      const err = await s3Store()
        .list(run)
        .catch((e: Error) => e);
      expect(err).toBeInstanceOf(ArtifactStoreUnavailableError);
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
      expect(Date.now() - started).toBeLessThan(5_000);
      // The worker's store retries while the server is away; the write lands once it is back.
      const write = waiting.put(run, 'during.txt', 'written during the outage');
      const appended = waiting.append(run, 'transcript.jsonl', 'kept\n');
      await new Promise((r) => setTimeout(r, 1_500));
      await s3.start();
      await Promise.all([write, appended]);
    } finally {
      await s3.start().catch(() => undefined);
    }
    const store = s3Store();
    expect((await store.list(run)).map((e) => e.path)).toEqual(['before.txt', 'during.txt', 'transcript.jsonl']);
    expect(await text((await store.open(run, 'transcript.jsonl'))!.stream)).toBe('kept\n');
  });
});
