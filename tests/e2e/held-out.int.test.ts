import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, uploadFiles, waitForStatus } from '../stack.js';
import { exportIrisCsv } from '../test-resources.js';

/**
 * A run with a held-out test, through the real stack. The iris table (exported at test time from the scikit-learn
 * data in the sandbox image) is split by this test: the experiments get the training rows with labels and the test
 * rows without; the answers go into a hidden upload with a canary planted in it. The service grades the best three
 * nodes in its own sandbox; each held-out score must equal what this test computes, and the canary must appear in
 * no experiment sandbox (the draft searches everything it can see), prompt, event, artifact or run record.
 */
const CANARY = `CANARY-${randomBytes(8).toString('hex')}`;
// A string of the canary's shape in the data the experiments see: the draft's search must find it (it looks).
const DECOY = `CANARY-${randomBytes(8).toString('hex')}`;
let stack: Stack;
let rows: Record<string, string>[];

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

const csv = (header: string[], body: string[][]) => `${[header, ...body].map((r) => r.join(',')).join('\n')}\n`;
const rule = (r: Record<string, string>) => {
  const petal = Number(r.petal_length);
  return petal < 2.5 ? 'setosa' : petal < 4.9 ? 'versicolor' : 'virginica';
};
const share = (items: Record<string, string>[], ok: (r: Record<string, string>) => boolean) =>
  items.filter(ok).length / items.length;

beforeAll(async () => {
  const [header, ...lines] = (await exportIrisCsv()).trim().split('\n');
  const names = header!.split(',');
  rows = lines.map((line, i) => ({
    id: `f${String(i).padStart(3, '0')}`,
    ...Object.fromEntries(line.split(',').map((v, j) => [names[j]!, v])),
  }));
  stack = await startStack();
}, 120_000);
afterAll(async () => {
  await stack?.close();
});

describe('a run with a held-out test', () => {
  it('grades the best nodes on answers no experiment sees, and the paper and reviewers get the scores', async () => {
    const features = ['sepal_length', 'sepal_width', 'petal_length', 'petal_width'];
    const test = rows.filter((_, i) => i % 3 === 0);
    const train = rows.filter((_, i) => i % 3 !== 0);
    const data = await uploadFiles(stack, {
      'train.csv': csv(
        ['id', ...features, 'species'],
        train.map((r) => [r.id!, ...features.map((f) => r[f]!), r.species!]),
      ),
      'test.csv': csv(
        ['id', ...features],
        test.map((r) => [r.id!, ...features.map((f) => r[f]!)]),
      ),
      'canary.sha256': `${createHash('sha256').update(CANARY).digest('hex')}\n`,
      'decoy.txt': `${DECOY}\n`,
    });
    const hidden = await uploadFiles(stack, {
      'answers.csv': csv(
        ['id', 'label', 'note'],
        test.map((r) => [r.id!, r.species!, CANARY]),
      ),
      'README.txt': `Held-out answers. ${CANARY}\n`,
    });

    // Refused: the held-out files may not be an upload the experiments also see.
    const reused = await api<{ error: { details: { issues: { path: string }[] } } }>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        goal: 'Held-out files that the experiments could read.',
        model: 'heldout',
        inputs: { data: hidden.id, evaluation: { hidden: hidden.id, metric: 'accuracy' } },
      }),
    });
    expect(reused.status).toBe(400);
    expect(reused.body.error.details.issues[0]?.path).toBe('inputs.evaluation.hidden');

    const submitted = await api<RunRecord>(stack, '/v1/runs', {
      method: 'POST',
      body: JSON.stringify({
        goal: 'Classify the iris species in the uploaded table; test.csv holds the held-out flowers.',
        model: 'heldout',
        maxIterations: 3,
        seeds: 0,
        search: { numDrafts: 1 },
        ideation: { numIdeas: 1, reflections: 0 },
        review: { reviewers: 1 },
        inputs: { data: data.id, evaluation: { hidden: hidden.id, metric: 'accuracy' } },
      }),
    });
    expect(submitted.status).toBe(202);
    const runId = submitted.body.id;
    const final = await waitForStatus(stack, runId, ['succeeded', 'failed', 'cancelled'], 300_000);
    expect(final.error).toBeNull();
    expect(final.status).toBe('succeeded');

    // Validation (each program's own metric): the memoriser looks perfect; it is what the search chooses.
    const ruleHeldOut = share(test, (r) => rule(r) === r.species);
    const memoriserHeldOut = share(test, (r) => r.species === 'setosa');
    expect(final.bestMetric).toMatchObject({ name: 'accuracy', value: 1, nodeId: 'n002' });
    expect(memoriserHeldOut).toBeLessThan(ruleHeldOut);
    // Held out, measured by the service: the rule wins, and the run record says so.
    expect(final.heldOut).toEqual({ metric: 'accuracy', value: ruleHeldOut, direction: 'maximize', nodeId: 'n001' });

    const events = (await readSse(stack, runId)).events;
    const scored = events.filter((e) => e.type === 'evaluation.scored');
    expect(scored).toHaveLength(1);
    expect(scored[0]!.data).toEqual({
      metric: 'accuracy',
      direction: 'maximize',
      grader: 'builtin',
      graded: [
        { nodeId: 'n002', validation: 1, value: memoriserHeldOut, reason: null },
        { nodeId: 'n001', validation: share(train, (r) => rule(r) === r.species), value: ruleHeldOut, reason: null },
        {
          nodeId: 'n003',
          validation: share(train, (r) => r.species === 'setosa'),
          value: null,
          reason: 'n003 wrote no predictions.csv in its working directory',
        },
      ],
      best: { nodeId: 'n001', value: ruleHeldOut },
      bestByValidation: 'n002',
    });

    // The draft searched every filesystem it could see: it found the decoy in the data, never the hidden canary.
    const draft = events.find((e) => e.type === 'node.finished' && (e.data as { nodeId: string }).nodeId === 'n001');
    const metrics = (draft?.data as { metrics: Record<string, number> } | undefined)?.metrics ?? {};
    expect(metrics.files_searched).toBeGreaterThanOrEqual(4);
    expect(metrics.canary_shaped_seen).toBe(1);
    expect(metrics.hidden_canary_seen).toBe(0);

    // The paper has the held-out table, says the search's choice is not the best held out, and the reviewer saw it.
    const dir = join(stack.dataDir, 'artifacts', runId);
    const tex = await readFile(join(dir, 'paper', 'paper.tex'), 'utf8');
    expect(tex).toContain('\\label{tab:heldout}');
    expect(tex).toContain('The program chosen by validation (n002) is not the best on held-out data (n001).');
    const transcript = (await readFile(join(dir, 'transcript.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { purpose: string });
    const prompt = (purpose: string) => JSON.stringify(transcript.find((t) => t.purpose === purpose) ?? 'missing');
    expect(prompt('draft')).toContain('MUST also write predictions.csv');
    expect(prompt('review')).toContain('held-out test the authors');
    expect(prompt('review')).toContain('NOT the best on held-out data (n001)');

    // The canary is nowhere: not in any artifact (prompts and replies are in transcript.jsonl), event or record.
    const artifacts = await filesUnder(dir);
    expect(artifacts).toContain(join(dir, 'transcript.jsonl'));
    expect(artifacts).toContain(join(dir, 'held-out.json'));
    expect(artifacts).toContain(join(dir, 'nodes', 'n001', 'files', 'predictions.csv'));
    for (const file of artifacts) expect((await readFile(file)).includes(CANARY), file).toBe(false);
    expect(JSON.stringify(events)).not.toContain(CANARY);
    expect(JSON.stringify(final)).not.toContain(CANARY);
  }, 400_000);
});
