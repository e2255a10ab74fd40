import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { UsageError } from '../errors.js';
import { RUN_ID, sampleRun } from '../testing/samples.js';
import { captureIo, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';
import { buildEvolveRequest } from './evolve.js';

describe('buildEvolveRequest', () => {
  it('sends mode evolve and only the settings given, the models split at commas', () => {
    expect(buildEvolveRequest({ evaluator: 'eval' })).toEqual({ mode: 'evolve' });
    expect(
      buildEvolveRequest({
        evaluator: 'eval',
        generations: 5,
        population: 6,
        islands: 3,
        models: 'fast, slow',
        novelty: 0.9,
        budgetUsd: 1,
      }),
    ).toEqual({
      mode: 'evolve',
      evolve: { generations: 5, population: 6, islands: 3, models: ['fast', 'slow'], noveltyThreshold: 0.9 },
      budgetUsd: 1,
    });
  });

  it('reads the patch mix as shares, a type left out at 0', () => {
    expect(buildEvolveRequest({ evaluator: 'e', patchTypes: 'rewrite' }).evolve).toEqual({
      patchTypes: { diff: 0, rewrite: 1, crossover: 0 },
    });
    expect(buildEvolveRequest({ evaluator: 'e', patchTypes: 'diff=0.7, crossover=0.3' }).evolve?.patchTypes).toEqual({
      diff: 0.7,
      rewrite: 0,
      crossover: 0.3,
    });
    expect(() => buildEvolveRequest({ evaluator: 'e', patchTypes: 'mutate=1' })).toThrow(/mutate is not a patch type/);
    expect(() => buildEvolveRequest({ evaluator: 'e', patchTypes: 'diff=lots' })).toThrow(/needs a number/);
    expect(() => buildEvolveRequest({ evaluator: 'e', patchTypes: 'diff=0' })).toThrow(/^--patch-types: /);
  });

  it('names the flag of a value out of range, before anything is uploaded', () => {
    expect(() => buildEvolveRequest({ evaluator: 'e', novelty: 0.2 })).toThrow(/^--novelty: /);
    expect(() => buildEvolveRequest({ evaluator: 'e', islands: 99 })).toThrow(/^--islands: /);
    expect(() => buildEvolveRequest({ evaluator: 'e', models: ' , ' })).toThrow(UsageError);
    expect(() => buildEvolveRequest({})).toThrow(/--evaluator/);
  });
});

describe('autolab evolve', () => {
  let server: StubServer;
  let dir: string;
  let uploads = 0;

  beforeEach(async () => {
    uploads = 0;
    dir = await mkdtemp(join(tmpdir(), 'autolab-evolve-'));
    await writeFile(join(dir, 'program.py'), 'def solve():\n    return 1\n');
    await mkdir(join(dir, 'evaluator'));
    await writeFile(join(dir, 'evaluator', 'evaluate.py'), 'print("score")\n');
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === '/v1/uploads') {
        const id = `upl_0000000000000000000000000${++uploads}`;
        const file = request.body.includes('evaluate.py') ? 'evaluate.py' : 'program.py';
        sendJson(res, 201, {
          id,
          tenant: 'default',
          name: file,
          createdAt: '2026-12-05T00:00:00Z',
          bytes: 20,
          fileCount: 1,
          files: [{ path: file, size: 20, sha256: 'x' }],
          skipped: [],
        });
      } else if (request.method === 'POST' && request.url === '/v1/runs') {
        sendJson(res, 202, sampleRun({ mode: 'evolve', status: 'queued', stage: null, iteration: 0 }));
      } else {
        sendJson(res, 404, { error: { code: 'not_found', message: request.url } });
      }
    });
  });
  afterEach(async () => {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('uploads the program and the evaluator, then submits mode evolve naming both', async () => {
    const { io, stdout, stderr } = captureIo();
    const argv = ['evolve', join(dir, 'program.py'), '--evaluator', join(dir, 'evaluator')];
    const code = await runCli([...argv, '--generations', '3', '--islands', '2', '--models', 'a,b'], {
      env: { AUTOLAB_URL: server.url },
      io,
    });
    expect(code).toBe(0);
    expect(server.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /v1/uploads',
      'POST /v1/uploads',
      'POST /v1/runs',
    ]);
    // Each upload is multipart with the file under its own name (a single file lands at the upload's top level).
    expect(server.requests[0]!.body).toContain('filename="program.py"');
    expect(server.requests[1]!.body).toContain('filename="evaluate.py"');
    expect(JSON.parse(server.requests[2]!.body)).toEqual({
      mode: 'evolve',
      evolve: { generations: 3, islands: 2, models: ['a', 'b'] },
      inputs: { code: 'upl_00000000000000000000000001', evaluator: 'upl_00000000000000000000000002' },
    });
    expect(stderr()).toContain('program: upl_00000000000000000000000001 (1 file(s)');
    expect(stderr()).toContain('evaluator: upl_00000000000000000000000002');
    expect(stdout().split('\n')[0]).toBe(RUN_ID);
  });

  it('refuses a bad setting or a missing evaluator with exit code 2, uploading nothing', async () => {
    for (const argv of [
      ['evolve', join(dir, 'program.py')],
      ['evolve', join(dir, 'program.py'), '--evaluator', join(dir, 'evaluator'), '--novelty', '0.1'],
      ['evolve', join(dir, 'missing.py'), '--evaluator', join(dir, 'evaluator')],
    ]) {
      const { io, stderr } = captureIo();
      expect(await runCli(argv, { env: { AUTOLAB_URL: server.url }, io })).toBe(2);
      expect(stderr()).toMatch(/evaluator|--novelty|cannot read/);
    }
    expect(server.requests).toHaveLength(0);
  });
});
