import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { CreatedApiKey, RunRecord, UploadList, UploadRecord } from '@autolab/contracts';
import * as tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as yazl from 'yazl';
import { api, type Stack, startStack } from '../stack.js';

/**
 * Uploads through the real API on a real Redis: what is stored, who can see it, and every kind of bad upload an
 * attacker (or an unlucky user) sends — each refused with a clear error, and nothing left behind on disk.
 */
type ErrorBody = { error: { code: string; message: string; details?: { entry?: string } } };
type Created = UploadRecord & { skipped: { path: string; reason: string }[] };

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CLI = join(ROOT, 'apps/cli/src/main.ts');
let stack: Stack;
let otherKey: string;
let readOnlyKey: string;

const MIB = 1024 * 1024;
const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

async function createKey(body: Record<string, unknown>): Promise<string> {
  const res = await api<CreatedApiKey>(stack, '/v1/admin/keys', {
    method: 'POST',
    body: JSON.stringify(body),
    key: stack.adminKey,
  });
  expect(res.status).toBe(201);
  return res.body.key;
}

/** POSTs files as multipart/form-data (one `file` part each, the name carrying its relative path). */
async function upload<T = Created>(
  files: [name: string, content: Buffer | string][],
  options: { key?: string; query?: string } = {},
): Promise<{ status: number; body: T }> {
  const form = new FormData();
  for (const [name, content] of files) form.append('file', new Blob([content]), name);
  const res = await fetch(`${stack.apiUrl}/v1/uploads${options.query ?? ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${options.key ?? stack.apiKey}` },
    body: form,
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function tarball(
  entries: (Partial<tar.Header> & { name: string; content?: Buffer | string })[],
  { gzip = true } = {},
): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    pack.on('data', (c) => {
      chunks.push(c as Buffer);
    });
    pack.on('end', () => resolve());
    pack.on('error', reject);
  });
  for (const { content, ...header } of entries) {
    if (content !== undefined) pack.entry(header, content);
    else pack.entry(header);
  }
  pack.finalize();
  await done;
  const raw = Buffer.concat(chunks);
  return gzip ? gzipSync(raw) : raw;
}

async function zipball(entries: { name: string; content: Buffer | string; mode?: number }[]): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const e of entries) zip.addBuffer(Buffer.from(e.content), e.name, e.mode === undefined ? {} : { mode: e.mode });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** What the upload root holds: committed uploads and drafts (a refused upload must leave neither). */
async function uploadDirs(): Promise<string[]> {
  return (await readdir(join(stack.dataDir, 'uploads')).catch(() => [])).sort();
}

beforeAll(async () => {
  stack = await startStack({
    worker: false,
    apiEnv: {
      AUTOLAB_UPLOAD_MAX_MB: '4',
      AUTOLAB_UPLOAD_MAX_FILES: '20',
      AUTOLAB_TENANT_UPLOAD_MAX_MB: '10',
      AUTOLAB_UPLOAD_MAX_UNPACK_RATIO: '100',
    },
  });
  otherKey = await createKey({ tenant: 'other', name: 'another tenant' });
  readOnlyKey = await createKey({ tenant: 'test', name: 'read only', scopes: ['runs:read'] });
});
afterAll(async () => {
  await stack?.close();
});

describe('uploads', () => {
  it('stores files with their relative paths, sizes and SHA-256, lists and deletes them', async () => {
    const csv = 'id,x,y\n1,0.5,1\n2,0.7,0\n';
    const code = 'print("baseline")\n';
    const res = await upload([
      ['data/train.csv', csv],
      ['./src/model.py', code],
      ['.git/config', '[core]\n'],
    ]);
    expect(res.status).toBe(201);
    expect(res.body.id).toMatch(/^upl_[0-9a-z]{26}$/);
    expect(res.body.files).toEqual([
      { path: 'data/train.csv', size: csv.length, sha256: sha256(csv) },
      { path: 'src/model.py', size: code.length, sha256: sha256(code) },
    ]);
    expect(res.body.bytes).toBe(csv.length + code.length);
    expect(res.body.skipped).toEqual([{ path: '.git/config', reason: expect.stringContaining('hidden') }]);

    const one = await api<UploadRecord>(stack, `/v1/uploads/${res.body.id}`);
    expect(one.status).toBe(200);
    expect(one.body.files).toEqual(res.body.files);
    expect(one.body.tenant).toBe('test');
    const list = await api<UploadList>(stack, '/v1/uploads');
    expect(list.body.uploads.map((u) => u.id)).toContain(res.body.id);
    expect(list.body.uploads[0]).not.toHaveProperty('files');

    // The file on disk is what was sent.
    expect(existsSync(join(stack.dataDir, 'uploads', res.body.id, 'files', 'data', 'train.csv'))).toBe(true);

    // Another tenant: exactly like a missing upload, for reading, listing and deleting.
    const missing = await api<ErrorBody>(stack, `/v1/uploads/upl_${'0'.repeat(26)}`, { key: otherKey });
    const foreign = await api<ErrorBody>(stack, `/v1/uploads/${res.body.id}`, { key: otherKey });
    expect(foreign.status).toBe(404);
    expect(foreign.body.error.code).toBe(missing.body.error.code);
    expect((await api<UploadList>(stack, '/v1/uploads', { key: otherKey })).body.uploads).toEqual([]);
    expect((await api(stack, `/v1/uploads/${res.body.id}`, { method: 'DELETE', key: otherKey })).status).toBe(404);

    // A read-only key may look but not upload or delete.
    expect((await api(stack, `/v1/uploads/${res.body.id}`, { key: readOnlyKey })).status).toBe(200);
    const refused = await upload<ErrorBody>([['a.txt', 'x']], { key: readOnlyKey });
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain('runs:write');

    expect((await api(stack, `/v1/uploads/${res.body.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(stack, `/v1/uploads/${res.body.id}`)).status).toBe(404);
    expect(existsSync(join(stack.dataDir, 'uploads', res.body.id))).toBe(false);
  });

  it('unpacks a single .tar.gz or .zip, skipping hidden files; unpack=false keeps the archive', async () => {
    const tgz = await tarball([
      { name: 'dataset/', type: 'directory' },
      { name: 'dataset/train.csv', content: 'a,b\n1,2\n' },
      { name: './dataset/test.csv', content: 'a,b\n3,4\n' },
      { name: '__MACOSX/._train.csv', content: 'junk' },
    ]);
    const fromTar = await upload([['data.tar.gz', tgz]]);
    expect(fromTar.status).toBe(201);
    expect(fromTar.body.files.map((f) => f.path)).toEqual(['dataset/test.csv', 'dataset/train.csv']);
    expect(fromTar.body.name).toBe('data.tar.gz');
    expect(fromTar.body.skipped.map((s) => s.path)).toEqual(['__MACOSX/._train.csv']);

    const zip = await zipball([
      { name: 'code/main.py', content: 'print(1)\n' },
      { name: 'README.md', content: '# baseline\n' },
    ]);
    const fromZip = await upload([['code.zip', zip]]);
    expect(fromZip.status).toBe(201);
    expect(fromZip.body.files.map((f) => [f.path, f.sha256])).toEqual([
      ['README.md', sha256('# baseline\n')],
      ['code/main.py', sha256('print(1)\n')],
    ]);

    const kept = await upload([['code.zip', zip]], { query: '?unpack=false' });
    expect(kept.status).toBe(201);
    expect(kept.body.files).toEqual([{ path: 'code.zip', size: zip.length, sha256: sha256(zip) }]);
    // With other files beside it, an archive is a file like any other.
    const beside = await upload([
      ['code.zip', zip],
      ['notes.txt', 'n'],
    ]);
    expect(beside.body.files.map((f) => f.path)).toEqual(['code.zip', 'notes.txt']);
  });

  it('refuses archive entries that escape, are links or devices, naming the entry, and writes nothing', async () => {
    const before = await uploadDirs();
    const cases: [string, Buffer, string][] = [
      [
        'dot-dot',
        await tarball([
          { name: 'ok.txt', content: 'fine' },
          { name: '../../evil.txt', content: 'x' },
        ]),
        '../../evil.txt',
      ],
      ['absolute', await tarball([{ name: '/tmp/evil.txt', content: 'x' }]), '/tmp/evil.txt'],
      ['symlink', await tarball([{ name: 'passwd', type: 'symlink', linkname: '/etc/passwd' }]), 'passwd'],
      [
        'hard link',
        await tarball([
          { name: 'ok.txt', content: 'a' },
          { name: 'h', type: 'link', linkname: 'ok.txt' },
        ]),
        'h',
      ],
      ['device', await tarball([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]), 'null'],
      ['fifo', await tarball([{ name: 'pipe', type: 'fifo' }]), 'pipe'],
      ['zip symlink', await zipball([{ name: 'link', content: '/etc/passwd', mode: 0o120777 }]), 'link'],
    ];
    for (const [label, archive, entry] of cases) {
      const res = await upload<ErrorBody>([[label.includes('zip') ? 'a.zip' : 'a.tar.gz', archive]]);
      expect(res.status, label).toBe(400);
      expect(res.body.error.code, label).toBe('invalid_upload');
      expect(res.body.error.message, label).toContain(entry);
    }
    // yazl will not write a `..` name: write a same-length one and change it in the local and central headers.
    const zipSafe = await zipball([{ name: 'xx/evil.txt', content: 'x' }]);
    const zipEscape = Buffer.from(zipSafe.toString('latin1').replaceAll('xx/evil.txt', '../evil.txt'), 'latin1');
    const escaped = await upload<ErrorBody>([['a.zip', zipEscape]]);
    expect(escaped.status).toBe(400);
    expect(escaped.body.error.message).toContain('../evil.txt');

    expect(await uploadDirs()).toEqual(before);
    expect(existsSync(join(stack.dataDir, 'evil.txt'))).toBe(false);
    expect(existsSync('/tmp/evil.txt')).toBe(false);
  });

  it('refuses bad file names and bodies that are not multipart, in the error shape', async () => {
    for (const name of ['../x.csv', '/etc/passwd', 'a\\b.csv', 'weird|name.csv']) {
      const res = await upload<ErrorBody>([[name, 'x']]);
      expect(res.status, name).toBe(400);
      expect(res.body.error.code, name).toBe('invalid_upload');
    }
    const json = await api<ErrorBody>(stack, '/v1/uploads', { method: 'POST', body: '{}' });
    expect(json.status).toBe(415);
    expect(json.body.error.message).toContain('multipart/form-data');
    const broken = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nno end',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as ErrorBody).error.code).toBe('invalid_upload');
    const empty = await upload<ErrorBody>([]);
    expect(empty.status).toBe(400);
  });

  it('answers 413 with the limit over bytes per upload, files per upload and bytes per tenant', async () => {
    const before = await uploadDirs();
    const big = await upload<ErrorBody>([['big.bin', Buffer.alloc(5 * MIB, 1)]]);
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('upload_too_large');
    expect(big.body.error.message).toContain('4 MB');

    const many = await upload<ErrorBody>(Array.from({ length: 21 }, (_, i) => [`f${i}.txt`, 'x'] as [string, string]));
    expect(many.status).toBe(413);
    expect(many.body.error.message).toContain('20 files');
    expect(await uploadDirs()).toEqual(before);

    // The tenant may hold 10 MB: two 3.5 MB uploads fit (with what earlier tests left), a third does not.
    const other = (b: number) => upload([['part.bin', Buffer.alloc(Math.floor(3.5 * MIB), b)]], { key: otherKey });
    expect((await other(1)).status).toBe(201);
    expect((await other(2)).status).toBe(201);
    const over = await other(3);
    expect(over.status).toBe(413);
    expect((over.body as unknown as ErrorBody).error.message).toContain('10 MB');
    // Deleting one makes room again.
    const list = await api<UploadList>(stack, '/v1/uploads', { key: otherKey });
    expect(
      (await api(stack, `/v1/uploads/${list.body.uploads[0]!.id}`, { method: 'DELETE', key: otherKey })).status,
    ).toBe(204);
    expect((await other(4)).status).toBe(201);
  });

  it('lets a run name its own tenant’s uploads as inputs, refuses others naming the field, and keeps used ones', async () => {
    const data = await upload([['train.csv', 'a,b\n1,2\n']]);
    const foreign = await upload([['x.csv', 'a\n1\n']], { key: otherKey });
    const twoTables = await upload([
      ['a.csv', 'id,label\n1,0\n'],
      ['b.csv', 'id,label\n2,1\n'],
    ]);
    const answers = await upload([['answers.csv', 'id,label\n1,0\n']]);
    const noProgram = await upload([['notes.md', '# grading\n']]);
    const run = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({ goal: 'Fit a model to the uploaded table.', inputs: { data: data.body.id } }),
    });
    expect(run.status).toBe(202);
    expect(run.body.inputs).toEqual({ data: data.body.id });

    for (const [inputs, field] of [
      [{ data: foreign.body.id }, 'inputs.data'],
      [{ code: `upl_${'0'.repeat(26)}` }, 'inputs.code'],
      [{ papers: foreign.body.id }, 'inputs.papers'],
      [{ data: 'not-an-id' }, 'inputs.data'],
      [{ hidden: data.body.id }, 'inputs'],
      // A held-out test: the answers must be an upload of their own, readable by the metric, gradable by the grader.
      [{ data: data.body.id, evaluation: { hidden: data.body.id, metric: 'accuracy' } }, 'inputs.evaluation.hidden'],
      [{ code: answers.body.id, evaluation: { hidden: answers.body.id, metric: 'f1' } }, 'inputs.evaluation.hidden'],
      [{ evaluation: { hidden: twoTables.body.id, metric: 'accuracy' } }, 'inputs.evaluation.hidden'],
      [{ evaluation: { hidden: foreign.body.id, metric: 'accuracy' } }, 'inputs.evaluation.hidden'],
      [{ evaluation: { hidden: answers.body.id, grader: noProgram.body.id } }, 'inputs.evaluation.grader'],
      [{ evaluation: { hidden: answers.body.id } }, 'inputs.evaluation.metric'],
      [
        { evaluation: { hidden: answers.body.id, metric: 'accuracy', grader: noProgram.body.id } },
        'inputs.evaluation.metric',
      ],
      [{ evaluation: { hidden: answers.body.id, metric: 'r2' } }, 'inputs.evaluation.metric'],
    ] as const) {
      const res = await api<ErrorBody & { error: { details: { issues: { path: string }[] } } }>(stack, '/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ goal: 'Fit a model to the uploaded table.', inputs }),
      });
      expect(res.status, JSON.stringify(inputs)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details.issues[0]!.path).toBe(field);
    }
    // Evolve mode: another tenant's program or evaluator reads like a missing upload, naming the field.
    const evaluator = await upload([['evaluate.py', 'print(1)\n']]);
    const program = await upload([['program.py', 'x = 1\n']]);
    for (const [inputs, field] of [
      [{ code: foreign.body.id, evaluator: evaluator.body.id }, 'inputs.code'],
      [{ code: program.body.id, evaluator: foreign.body.id }, 'inputs.evaluator'],
    ] as const) {
      const res = await api<ErrorBody & { error: { details: { issues: { path: string }[] } } }>(stack, '/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ mode: 'evolve', inputs }),
      });
      expect(res.status, JSON.stringify(inputs)).toBe(400);
      expect(res.body.error.details.issues[0]!.path).toBe(field);
      expect(res.body.error.message).toContain('there is no upload');
    }

    // Queued (no worker here): the upload cannot be deleted under it; once the run is over, it can.
    const inUse = await api<ErrorBody>(stack, `/v1/uploads/${data.body.id}`, { method: 'DELETE' });
    expect(inUse.status).toBe(409);
    expect(inUse.body.error.code).toBe('upload_in_use');
    expect(inUse.body.error.message).toContain(run.body.id);
    expect((await api(stack, `/v1/runs/${run.body.id}/cancel`, { method: 'POST' })).status).toBe(202);
    expect((await api(stack, `/v1/uploads/${data.body.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('the CLI uploads --data (a directory), --code, --papers and --hidden, and submits a run that names them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'autolab-cli-upload-'));
    try {
      await mkdir(join(dir, 'data', 'split'), { recursive: true });
      await writeFile(join(dir, 'data', 'train.csv'), 'a,b\n1,2\n');
      await writeFile(join(dir, 'data', 'split', 'test.csv'), 'a,b\n3,4\n');
      await writeFile(join(dir, 'data', '.DS_Store'), 'junk');
      await writeFile(join(dir, 'baseline.py'), 'print("baseline")\n');
      await mkdir(join(dir, 'hidden'));
      await writeFile(join(dir, 'hidden', 'answers.csv'), 'id,label\n3,1\n');
      await writeFile(join(dir, 'refs.bib'), '@misc{k, title = {T}}\n');
      const child = await run(
        process.execPath,
        [
          '--import',
          'tsx',
          CLI,
          'submit',
          'Fit the uploaded table with the baseline.',
          '--data',
          join(dir, 'data'),
          '--code',
          join(dir, 'baseline.py'),
          '--hidden',
          join(dir, 'hidden'),
          '--metric',
          'f1',
          '--papers',
          join(dir, 'refs.bib'),
          '--json',
        ],
        { cwd: ROOT, env: { ...process.env, AUTOLAB_URL: stack.apiUrl, AUTOLAB_API_KEY: stack.apiKey } },
      );
      const record = JSON.parse(child.stdout) as RunRecord;
      expect(record.status).toBe('queued');
      const data = await api<UploadRecord>(stack, `/v1/uploads/${record.inputs.data}`);
      expect(data.body.files.map((f) => [f.path, f.sha256])).toEqual([
        ['split/test.csv', sha256('a,b\n3,4\n')],
        ['train.csv', sha256('a,b\n1,2\n')],
      ]);
      const code = await api<UploadRecord>(stack, `/v1/uploads/${record.inputs.code}`);
      expect(code.body.files.map((f) => f.path)).toEqual(['baseline.py']);
      expect(record.inputs.evaluation).toEqual({ hidden: expect.stringMatching(/^upl_/), metric: 'f1' });
      const hidden = await api<UploadRecord>(stack, `/v1/uploads/${record.inputs.evaluation?.hidden}`);
      expect(hidden.body.files.map((f) => f.path)).toEqual(['answers.csv']);
      // The hidden upload is the run's too: it cannot be deleted while the run is queued.
      const inUse = await api<ErrorBody>(stack, `/v1/uploads/${hidden.body.id}`, { method: 'DELETE' });
      expect(inUse.status).toBe(409);
      const papers = await api<UploadRecord>(stack, `/v1/uploads/${record.inputs.papers}`);
      expect(papers.body.files.map((f) => f.path)).toEqual(['refs.bib']);
      // A path that does not exist is a usage error (exit 2) before anything is sent.
      const missing = await run(
        process.execPath,
        ['--import', 'tsx', CLI, 'submit', 'Fit the uploaded table with the baseline.', '--data', join(dir, 'nope')],
        { cwd: ROOT, env: { ...process.env, AUTOLAB_URL: stack.apiUrl, AUTOLAB_API_KEY: stack.apiKey } },
      ).catch((err: { code: number; stderr: string }) => err);
      expect((missing as { code: number }).code).toBe(2);
      expect((missing as { stderr: string }).stderr).toContain('nope');
      await api(stack, `/v1/runs/${record.id}/cancel`, { method: 'POST' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses an archive bomb by its unpack ratio, naming the entry, before unpacking it all', async () => {
    // 40 MB of zeros gzip to about 40 KB: far over 100× (and over the 4 MB upload limit once unpacked).
    const bomb = await tarball([{ name: 'zeros.bin', content: Buffer.alloc(40 * MIB) }]);
    expect(bomb.length).toBeLessThan(MIB);
    const res = await upload<ErrorBody>([['bomb.tar.gz', bomb]]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_upload');
    expect(res.body.error.message).toContain('zeros.bin');
    expect(res.body.error.message).toMatch(/100×/);
    const zipBomb = await zipball([{ name: 'zeros.bin', content: Buffer.alloc(40 * MIB) }]);
    const zres = await upload<ErrorBody>([['bomb.zip', zipBomb]]);
    expect(zres.status).toBe(400);
    expect(zres.body.error.message).toContain('zeros.bin');
  });
});
