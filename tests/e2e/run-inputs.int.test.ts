import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ErrorBody, RunRecord, TemplateList, UploadRecord } from '@autolab/contracts';
import { LABEL_RUN } from '@autolab/sandbox';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, waitForStatus } from '../stack.js';
import { exportIrisCsv } from '../test-resources.js';

/**
 * A run on the user's own data, through the real stack: the table is exported at test time from the scikit-learn
 * data bundled in the sandbox image, uploaded, named as the run's data input, previewed inside a sandbox, shown to
 * the model, and read by the experiment from /workspace/input/data/. The metric the run records must equal what this
 * test computes from the same file.
 */
const run = promisify(execFile);
const image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
let stack: Stack;
let csv: string;

beforeAll(async () => {
  csv = await exportIrisCsv();
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('a run with a data input', () => {
  it('previews the uploaded table in a sandbox, tells the model, and measures on the real file', async () => {
    const rows = csv.trim().split('\n').slice(1);
    expect(rows).toHaveLength(150);
    const header = csv.split('\n')[0]!.split(',');
    const [sepal, species] = [header.indexOf('sepal_length'), header.indexOf('species')];
    const correct = rows.filter((line) => {
      const cells = line.split(',');
      return Number(cells[sepal]) < 5.5 === (cells[species] === 'setosa');
    }).length;
    const expected = correct / rows.length;
    // The user's starting code: a weaker rule (sepal shorter than 5.0 cm), run as it is as the first node.
    const baselineCorrect = rows.filter((line) => {
      const cells = line.split(',');
      return Number(cells[sepal]) < 5.0 === (cells[species] === 'setosa');
    }).length;
    const baselineExpected = baselineCorrect / rows.length;
    const baseline = [
      'import csv, json',
      'rows = list(csv.DictReader(open("/workspace/input/data/iris.csv")))',
      'ok = sum((float(r["sepal_length"]) < 5.0) == (r["species"] == "setosa") for r in rows)',
      'json.dump({"accuracy": ok / len(rows)}, open("results.json", "w"))',
      'print("baseline", ok / len(rows))',
    ].join('\n');
    const codeForm = new FormData();
    codeForm.append('file', new Blob([baseline]), 'main.py');
    codeForm.append('file', new Blob(['# notes\n']), 'README.md');
    const codeUpload = (await (
      await fetch(`${stack.apiUrl}/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${stack.apiKey}` },
        body: codeForm,
      })
    ).json()) as UploadRecord;

    const form = new FormData();
    form.append('file', new Blob([csv]), 'iris.csv');
    const uploaded = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.apiKey}` },
      body: form,
    });
    expect(uploaded.status).toBe(201);
    const upload = (await uploaded.json()) as UploadRecord;

    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        goal: 'How well does one sepal-length threshold separate setosa in the uploaded table?',
        model: 'inputs',
        maxIterations: 8,
        seeds: 0,
        search: { numDrafts: 2 },
        ideation: { numIdeas: 1, reflections: 0 },
        review: { reviewers: 0 },
        inputs: { data: upload.id, code: codeUpload.id },
      }),
    });
    expect(submitted.status).toBe(202);
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');

    // The experiment read the uploaded file: its metric is the test's own computation.
    expect(final.bestMetric?.name).toBe('accuracy');
    expect(final.bestMetric?.value).toBeCloseTo(expected, 10);

    // The first node is the user's code as it is (no model call for it), measured on the same file.
    const events = (await readSse(stack, runId)).events;
    const finished = events
      .filter((e) => e.type === 'node.finished')
      .map((e) => e.data as { nodeId: string; metrics: Record<string, number> });
    const created = events
      .filter((e) => e.type === 'node.created')
      .map((e) => e.data as { nodeId: string; plan: string });
    expect(created[0]).toMatchObject({ nodeId: 'n001', plan: expect.stringContaining('starting code') });
    expect(finished.find((n) => n.nodeId === 'n001')?.metrics.accuracy).toBeCloseTo(baselineExpected, 10);
    expect(finished.find((n) => n.nodeId === 'n002')?.metrics.accuracy).toBeCloseTo(expected, 10);
    expect(baselineExpected).toBeLessThan(expected);
    const draftCalls = stack.scripted.callsFor(runId).filter((c) => c.key === 'draft_experiment');
    expect(draftCalls).toHaveLength(1);
    // The gain over the starting code, as the run reports it when it finishes.
    const finishedEvent = events.find((e) => e.type === 'run.finished');
    expect(finishedEvent?.data).toMatchObject({
      startingCode: {
        metric: 'accuracy',
        startNodeId: 'n001',
        startValue: baselineExpected,
        bestNodeId: 'n002',
        bestValue: expected,
        improved: true,
      },
    });
    expect(finishedEvent?.message).toContain('Over the starting code: accuracy');

    // The preview ran in a sandbox and described the table.
    const described = events.find((e) => e.type === 'inputs.described');
    expect(described?.data).toMatchObject({
      inputs: [
        { kind: 'data', uploadId: upload.id, files: 1 },
        { kind: 'code', uploadId: codeUpload.id, files: 2 },
      ],
    });
    const preview = (described?.data as { preview?: string } | undefined)?.preview ?? '';
    expect(preview).toContain('/workspace/input/data/');
    expect(preview).toMatch(/iris\.csv \(.*\): table, 150 rows × 5 columns/);
    expect(preview).toContain('species');
    const inputsJson = JSON.parse(await readFile(join(stack.dataDir, 'artifacts', runId, 'inputs.json'), 'utf8'));
    expect(inputsJson.inputs.data).toEqual({ uploadId: upload.id, mount: '/workspace/input/data/' });

    // The model was told: the prompts of ideation and of the draft carry the preview.
    const transcript = (await readFile(join(stack.dataDir, 'artifacts', runId, 'transcript.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { purpose: string; request?: { messages?: { content: string }[] } });
    const promptOf = (purpose: string) => JSON.stringify(transcript.find((t) => t.purpose === purpose) ?? 'missing');
    expect(promptOf('ideas')).toContain('150 rows × 5 columns');
    expect(promptOf('draft')).toContain('/workspace/input/data/');

    // Nothing is left behind: no container, no input volume.
    const docker = new Docker();
    const filters = { label: [`${LABEL_RUN}=${runId}`] };
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect((await docker.listVolumes({ filters })).Volumes ?? []).toEqual([]);
  }, 400_000);

  it('starts from a built-in template: its baseline runs as it is as the first node, its goal is the run’s', async () => {
    const listed = await api<TemplateList>(stack, '/v1/templates');
    expect(listed.status).toBe(200);
    expect(listed.body.templates.map((t) => t.name)).toEqual(
      expect.arrayContaining(['char-lm', 'diffusion-2d', 'grokking', 'tabular']),
    );
    const tabular = listed.body.templates.find((t) => t.name === 'tabular')!;
    expect(tabular.metric).toMatchObject({ name: 'accuracy', direction: 'maximize' });

    // Refused, naming the field: an unknown template, a template with uploaded code, neither goal nor template.
    const refused = async (body: Record<string, unknown>) => {
      const res = await api<ErrorBody>(stack, '/v1/runs', { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      return res.body.error.message;
    };
    expect(await refused({ inputs: { template: 'no-such-template' } })).toMatch(
      /^Invalid body inputs\.template: there is no template no-such-template \(known: .*grokking, tabular/,
    );
    expect(await refused({ inputs: { template: 'tabular', code: 'upl_0123456789abcdefghjkmnpqrs' } })).toMatch(
      /inputs\.template: a run has one starting program/,
    );
    expect(await refused({ maxIterations: 2 })).toMatch(/goal: give a goal/);

    // What the baseline records with SEED=0, measured here in the same image, outside the service.
    const marker = '@@RESULTS@@';
    const measured = await run(
      'docker',
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--env',
        'SEED=0',
        image,
        'python3',
        '-c',
        `${tabular.baselineCode}\nimport sys\nsys.stdout.write(${JSON.stringify(marker)} + open("results.json").read())`,
      ],
      { maxBuffer: 1 << 20 },
    );
    const expected = JSON.parse(measured.stdout.split(marker)[1]!) as { accuracy: number };

    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        model: 'template-tabular',
        maxIterations: 2,
        seeds: 0,
        search: { numDrafts: 1 },
        ideation: { numIdeas: 1, reflections: 0 },
        review: { reviewers: 0 },
        inputs: { template: 'tabular' },
      }),
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body.goal).toBe(tabular.goal);
    expect(submitted.body.inputs).toEqual({ template: 'tabular' });
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');

    // n001 is the template's baseline, run as it is (no model call for it), with the metric it really recorded;
    // n002, the scripted improvement, builds on it.
    const events = (await readSse(stack, runId)).events;
    const created = events.filter((e) => e.type === 'node.created').map((e) => e.data as { plan: string });
    expect(created[0]?.plan).toContain("The tabular template's baseline, run as it is");
    const finished = events
      .filter((e) => e.type === 'node.finished')
      .map((e) => e.data as { nodeId: string; metrics: Record<string, number> });
    const baseline = finished.find((n) => n.nodeId === 'n001')!;
    expect(baseline.metrics.accuracy).toBeCloseTo(expected.accuracy, 12);
    const artifact = (path: string) => readFile(join(stack.dataDir, 'artifacts', runId, path), 'utf8');
    expect(await artifact('nodes/n001/stdout.txt')).toContain(
      `mean accuracy over 4 datasets: ${expected.accuracy.toFixed(4)} (seed 0)`,
    );
    const improved = finished.find((n) => n.nodeId === 'n002')!;
    expect(improved.metrics.accuracy).toBeGreaterThan(expected.accuracy);
    expect(final.bestMetric).toMatchObject({ name: 'accuracy', nodeId: 'n002', value: improved.metrics.accuracy });
    const calls = stack.scripted.callsFor(runId).map((c) => c.key);
    expect(calls).not.toContain('draft_experiment');

    // The code arrived like an uploaded code input: previewed, and named by its template.
    const described = events.find((e) => e.type === 'inputs.described');
    expect(described?.data).toMatchObject({
      inputs: [{ kind: 'code', uploadId: null, template: 'tabular', files: 1 }],
    });
    expect(JSON.parse(await artifact('inputs.json')).inputs.code).toEqual({
      uploadId: null,
      template: 'tabular',
      mount: '/workspace/input/code/',
    });

    // Ideation saw the template's metric and seed ideas, the figures step its plot code, the writer its notes.
    const transcript = (await artifact('transcript.jsonl'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { purpose: string });
    const promptOf = (purpose: string) => JSON.stringify(transcript.find((t) => t.purpose === purpose) ?? 'missing');
    expect(promptOf('ideas')).toContain('built-in template \\"tabular\\"');
    expect(promptOf('ideas')).toContain(tabular.seedIdeas[1]!.title);
    expect(promptOf('figures')).toContain('accuracy_by_dataset.png');
    expect(promptOf('paper')).toContain('four classification datasets bundled with scikit-learn');
  }, 400_000);

  it('fails the run clearly when its input was deleted before it started', async () => {
    const idle = await startStack({ worker: false });
    try {
      const form = new FormData();
      form.append('file', new Blob(['a,b\n1,2\n']), 'tiny.csv');
      const res = await fetch(`${idle.apiUrl}/v1/uploads`, {
        method: 'POST',
        headers: { authorization: `Bearer ${idle.apiKey}` },
        body: form,
      });
      const upload = (await res.json()) as UploadRecord;
      const submitted = await api<RunRecord>(idle, '/v1/runs', {
        method: 'POST',
        body: JSON.stringify({ goal: 'A run whose data goes missing.', model: 'inputs', inputs: { data: upload.id } }),
      });
      // Deleted behind the API's back (the API refuses while the run is queued): as if removed by an operator.
      await idle.redis.del(`${idle.prefix}:upload:${upload.id}`);
      await idle.startWorker();
      const final = await waitForStatus(idle, submitted.body.id, ['succeeded', 'failed'], 60_000);
      expect(final.status).toBe('failed');
      expect(final.error?.code).toBe('input_missing');
      expect(final.error?.message).toContain(upload.id);
    } finally {
      await idle.close();
    }
  }, 120_000);
});
