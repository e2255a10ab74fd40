import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalArtifactStore } from './artifact-store.js';

let root: string;
let store: LocalArtifactStore;

const read = async (stream: Readable) => {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'artifact-store-'));
  store = new LocalArtifactStore(root);
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('LocalArtifactStore.open', () => {
  it('yields exactly the bytes the file had when opened, however it changes while it is read', async () => {
    await store.put('run_a', 'transcript.jsonl', 'one\n');
    const grown = (await store.open('run_a', 'transcript.jsonl'))!;
    await store.append('run_a', 'transcript.jsonl', 'two\n');
    expect(grown.size).toBe(4);
    expect(await read(grown.stream)).toBe('one\n');

    const replaced = (await store.open('run_a', 'transcript.jsonl'))!;
    await store.put('run_a', 'transcript.jsonl', 'a new and longer version\n');
    expect(await read(replaced.stream)).toBe('one\ntwo\n');
  });

  it('opens empty files, and refuses links and directories', async () => {
    await store.put('run_a', 'empty.txt', '');
    const empty = (await store.open('run_a', 'empty.txt'))!;
    expect([empty.size, await read(empty.stream)]).toEqual([0, '']);
    await writeFile(join(root, 'secret'), 'not of the run');
    await symlink(join(root, 'secret'), join(root, 'run_a', 'link.txt'));
    expect(await store.open('run_a', 'link.txt')).toBeNull();
    await store.put('run_a', 'dir/file.txt', 'x');
    expect(await store.open('run_a', 'dir')).toBeNull();
    expect(await store.open('run_a', 'missing.txt')).toBeNull();
  });
});
