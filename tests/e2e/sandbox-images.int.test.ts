import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RunRecord, SandboxImageList } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type Stack, startStack, waitForStatus } from '../stack.js';

/**
 * An operator-registered sandbox image, through the real stack: a tiny image built at test time FROM the python image
 * with a marker file only it has, registered as `alt` with AUTOLAB_SANDBOX_IMAGES on the API and the worker. A run
 * naming it runs its experiment there (the experiment reads the marker and reports it, AI-Scientist's way, in
 * run_0/final_info.json only); unknown names are a 400; a worker without the image fails the run clearly.
 */
const run = promisify(execFile);
const base = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
const tag = `autolab-python-alt:test-${randomBytes(4).toString('hex')}`;
const marker = Number((0.5 + Math.random() / 4).toFixed(6));
const registered = JSON.stringify([{ name: 'alt', tag, packages: ['numpy', 'a marker file'] }]);
let stack: Stack;

beforeAll(async () => {
  const context = await mkdtemp(join(tmpdir(), 'autolab-alt-image-'));
  try {
    await writeFile(join(context, 'marker'), `${marker}\n`);
    await writeFile(join(context, 'Dockerfile'), `FROM ${base}\nCOPY marker /opt/autolab-alt/marker\n`);
    await run('docker', ['build', '-q', '-t', tag, context]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  stack = await startStack({
    apiEnv: { AUTOLAB_SANDBOX_IMAGES: registered },
    workerEnv: { AUTOLAB_SANDBOX_IMAGES: registered },
  });
}, 180_000);
afterAll(async () => {
  await stack?.close();
  await run('docker', ['rmi', '-f', tag]).catch(() => undefined);
});

const submit = (stackToUse: Stack, sandbox: Record<string, unknown>) =>
  api<RunRecord & { error: { code: string; details: { issues: { path: string }[] } } }>(stackToUse, '/v1/runs', {
    method: 'POST',
    body: JSON.stringify({
      goal: 'Does the experiment run in the sandbox image the run names?',
      model: 'images',
      maxIterations: 4,
      seeds: 0,
      search: { numDrafts: 1 },
      ideation: { numIdeas: 1, reflections: 0 },
      review: { reviewers: 0 },
      sandbox,
    }),
  });

describe('sandbox images', () => {
  it('lists the built-in image and the registered one', async () => {
    const listed = await api<SandboxImageList>(stack, '/v1/images');
    expect(listed.status).toBe(200);
    expect(listed.body.images).toEqual([
      expect.objectContaining({ name: 'python', tag: base, default: true }),
      { name: 'alt', tag, packages: ['numpy', 'a marker file'], description: null, default: false },
    ]);
    expect((await api(stack, '/v1/images', { key: null })).status).toBe(401);
  });

  it('refuses an image nobody registered, naming the field', async () => {
    const refused = await submit(stack, { image: 'gpu-stack' });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('validation_failed');
    expect(refused.body.error.details.issues[0]?.path).toBe('sandbox.image');
    expect(JSON.stringify(refused.body)).toContain('python, alt');
  });

  it('runs the experiments of a run that names it in that image, reading its final_info.json', async () => {
    const submitted = await submit(stack, { image: 'alt' });
    expect(submitted.status).toBe(202);
    expect(submitted.body.sandbox.image).toBe('alt');
    const final = await waitForStatus(stack, submitted.body.id, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');
    expect(final.sandbox.image).toBe('alt');
    // Only that image has the marker; the program reported it in run_0/final_info.json alone.
    expect(final.bestMetric).toMatchObject({ name: 'marker_value', value: marker });
    const artifacts = join(stack.dataDir, 'artifacts', final.id);
    const derived = JSON.parse(await readFile(join(artifacts, 'nodes/n001/results.json'), 'utf8'));
    expect(derived).toEqual({ marker_value: marker, alt_image: { marker_value: marker } });
    await expect(readFile(join(artifacts, 'nodes/n001/files/run_0/final_info.json'), 'utf8')).resolves.toContain(
      'means',
    );
    const manifest = JSON.parse(await readFile(join(artifacts, 'manifest.json'), 'utf8'));
    expect(manifest.sandboxImage).toBe((await new Docker().getImage(tag).inspect()).Id);
    // The model was told what the image offers.
    const transcript = await readFile(join(artifacts, 'transcript.jsonl'), 'utf8');
    const draft = transcript.split('\n').find((line) => line.includes('"purpose":"draft"'));
    expect(draft).toContain('The sandbox image \\"alt\\" with Python 3 and: numpy, a marker file.');
  }, 400_000);

  it('fails a run clearly on a worker that lacks the image it names', async () => {
    const idle = await startStack({ worker: false, apiEnv: { AUTOLAB_SANDBOX_IMAGES: registered } });
    try {
      const submitted = await submit(idle, { image: 'alt' });
      expect(submitted.status).toBe(202);
      await idle.startWorker();
      const final = await waitForStatus(idle, submitted.body.id, ['succeeded', 'failed'], 60_000);
      expect(final.status).toBe('failed');
      expect(final.error?.code).toBe('sandbox_image_unknown');
      expect(final.error?.message).toContain('"alt"');
    } finally {
      await idle.close();
    }
  }, 120_000);
});
