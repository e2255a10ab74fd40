import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import type { ArtifactEntry, EventPage, RunEvent, RunRecord } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, authHeaders, readSse, type Stack, startStack, submitRun, TEST_API_KEY } from '../stack.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';

let stack: Stack;
let run: RunRecord;
let events: RunEvent[];

/** Names of the files in a .tar.gz (enough of the ustar format to list it). */
function tarNames(gz: Buffer): string[] {
  const tar = gunzipSync(gz);
  const names: string[] = [];
  for (let offset = 0; offset + 512 <= tar.length; ) {
    const header = tar.subarray(offset, offset + 512);
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    if (!name) break;
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = Number.parseInt(header.subarray(124, 136).toString('utf8').trim() || '0', 8);
    names.push(prefix ? `${prefix}/${name}` : name);
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe('a research run end to end (HTTP → BullMQ → worker → model over HTTP → Docker → paper)', () => {
  beforeAll(async () => {
    stack = await startStack();
    run = await submitRun(stack, { goal: GOAL, maxIterations: 6, search: { numDrafts: 1 } });
    const stream = await readSse(stack, run.id, { timeoutMs: 240_000 });
    expect(stream.ended).toBe(true);
    events = stream.events;
  }, 300_000);

  afterAll(async () => {
    await stack?.close();
  });

  it('streams every stage and ends with run.finished succeeded', async () => {
    expect(events[0]!.type).toBe('run.queued');
    expect(events.at(-1)!.type).toBe('run.finished');
    expect((events.at(-1)!.data as { status: string }).status).toBe('succeeded');
    const types = new Set(events.map((e) => e.type));
    for (const type of [
      'run.started',
      'stage.started',
      'idea.proposed',
      'idea.chosen',
      'plan.ready',
      'search.stage',
      'node.created',
      'exec.output',
      'node.finished',
      'metric.improved',
      'seeds.evaluated',
      'figure.created',
      'cost.updated',
      'paper.ready',
      'review.completed',
    ]) {
      expect(types, type).toContain(type);
    }
    const stages = events.filter((e) => e.type === 'stage.started').map((e) => (e.data as { stage: string }).stage);
    expect(stages).toEqual(['ideation', 'experiments', 'figures', 'writeup', 'review']);
    const searchStages = events
      .filter((e) => e.type === 'search.stage')
      .map((e) => (e.data as { stage: string }).stage);
    expect(searchStages).toEqual(['baseline', 'tuning', 'research', 'ablation']);
    // Event ids are strictly increasing stream ids; every event has a message for people.
    const ids = events.map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(events.every((e) => e.message.length > 0)).toBe(true);
  });

  it('debugged the crashing draft, then tuned, researched and ablated', async () => {
    const finished = events
      .filter((e) => e.type === 'node.finished')
      .map((e) => e.data as { nodeId: string; buggy: boolean; error: string | null; analysis: string | null });
    expect(finished[0]).toMatchObject({ nodeId: 'n001', buggy: true });
    expect(finished[0]!.error).toMatch(/ValueError|shapes|size/);
    expect(finished[1]).toMatchObject({ nodeId: 'n002', buggy: false });
    expect(finished.every((n) => n.analysis !== null)).toBe(true);
    const operators = events
      .filter((e) => e.type === 'node.created')
      .map((e) => (e.data as { operator: string }).operator);
    expect(operators.slice(0, 2)).toEqual(['draft', 'debug']);
    expect(operators).toContain('hyperparameter');
    expect(operators).toContain('ablation');
    const record = (await api<RunRecord>(stack, `/v1/runs/${run.id}`)).body;
    expect(record.status).toBe('succeeded');
    expect(record.stage).toBe('done');
    expect(record.bestMetric).toMatchObject({ name: 'final_loss_standardized', direction: 'minimize' });
    expect(record.review).toMatchObject({ reviewers: 3 });
    expect(record.usage.calls).toBeGreaterThan(10);
    expect(record.usage.totalTokens).toBeGreaterThan(0);
    const seeds = events.find((e) => e.type === 'seeds.evaluated')!.data as { values: number[]; std: number };
    expect(seeds.values.length).toBe(4);
    // Each extra seed is announced when it starts and when it ends, with the value it measured.
    const seedEvents = events
      .filter((e) => e.type === 'seed.started' || e.type === 'seed.finished')
      .map((e) => [e.type, (e.data as { seed: number }).seed]);
    expect(seedEvents).toEqual(
      [1, 2, 3].flatMap((seed) => [
        ['seed.started', seed],
        ['seed.finished', seed],
      ]),
    );
    const measured = events
      .filter((e) => e.type === 'seed.finished')
      .map((e) => (e.data as { value: number | null }).value);
    expect(measured).toEqual(seeds.values.slice(1));
  });

  it('serves a PDF whose text holds the number the sandboxed code printed', async () => {
    const res = await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/paper/paper.pdf`, {
      headers: authHeaders(stack),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    const pdf = Buffer.from(await res.arrayBuffer());
    expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
    const file = join(mkdtempSync(join(tmpdir(), 'autolab-pdf-')), 'paper.pdf');
    writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' });

    // What the best experiment really printed (its stdout, saved by the worker).
    const best = (await api<RunRecord>(stack, `/v1/runs/${run.id}`)).body.bestMetric!.nodeId;
    const stdout = await (
      await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/nodes/${best}/stdout.txt`, {
        headers: authHeaders(stack),
      })
    ).text();
    const printed = Number(/"final_loss_standardized": ([0-9.e-]+)/.exec(stdout)![1]);
    expect(Number.isFinite(printed)).toBe(true);
    expect(text).toContain(String(Number(printed.toPrecision(4))));
    // The tables name the metric as a reader reads it, not as a key.
    expect(text).toContain('final loss standardized');
    // Kept for a person to look at after the run (CI keeps test-output/).
    mkdirSync(join(ROOT, 'test-output/papers'), { recursive: true });
    writeFileSync(join(ROOT, 'test-output/papers/demo.pdf'), pdf);
  });

  it('passes the paper check: no overfull box over 1 pt, real figure captions, counts that agree with the journal, no cell cut mid-word', async () => {
    const text = async (path: string) =>
      (await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/${path}`, { headers: authHeaders(stack) })).text();
    const [log, tex, results, journalText] = await Promise.all([
      text('paper/paper.log'),
      text('paper/paper.tex'),
      text('paper/results.tex'),
      text('journal.json'),
    ]);
    const journal = JSON.parse(journalText) as {
      nodes: { id: string; operator: string; buggy: boolean; plan: string; metrics: Record<string, number> }[];
    };
    // 1. The layout: LaTeX reports no line more than 1 pt too wide.
    const overfull = [...log.matchAll(/Overfull \\hbox \(([\d.]+)pt too wide\)/g)].map((m) => Number(m[1]));
    expect(overfull.filter((pt) => pt > 1)).toEqual([]);
    // 2. Every figure has a caption that says what it shows, not a file name.
    const figureCaptions = [...tex.matchAll(/\\begin\{figure\}[\s\S]*?\\caption\{([^}]*)\}/g)].map((m) => m[1]!);
    expect(figureCaptions.length).toBeGreaterThan(0);
    for (const caption of figureCaptions) {
      expect(caption).not.toMatch(/\.(png|jpe?g|pdf)\b|^Figure saved/i);
      expect(caption.split(/\s+/).length).toBeGreaterThan(3);
    }
    // 3. Counts: the macros the prose uses and the results table's caption agree with journal.json.
    const macro = (name: string) => new RegExp(`\\\\newcommand\\{\\\\${name}\\}\\{([^}]*)\\}`).exec(results)?.[1];
    const searched = journal.nodes.filter((n) => n.operator !== 'ablation');
    expect(macro('numexperiments')).toBe(String(journal.nodes.length));
    expect(macro('numfailed')).toBe(String(journal.nodes.filter((n) => n.buggy).length));
    const counted = /ablations aside: (\d+) of the (\d+) that were not ablations/.exec(tex);
    expect(counted?.slice(1).map(Number)).toEqual([searched.filter((n) => !n.buggy).length, searched.length]);
    // 4. No table cell ends in half a word: a cut cell is a run of whole words of the node's plan.
    const rows = [...tex.matchAll(/^(n\d{3}) & (.*?) & .*\\\\$/gm)];
    for (const [, id, cell] of rows) {
      if (!cell!.endsWith('…')) continue;
      const plan = journal.nodes.find((n) => n.id === id)!.plan.replace(/\s+/g, ' ');
      const kept = cell!.slice(0, -1).replace(/\\([%&_#$])/g, '$1');
      expect(plan.startsWith(kept), `${id}: ${cell}`).toBe(true);
      expect(plan.charAt(kept.length), `${id} is cut inside a word: ${cell}`).toMatch(/[\s,;:.!?)]/);
    }
    // Only the primary metric's best value is bold (a tie bolds each of its cells), never a whole row.
    for (const row of tex.split('\n').filter((line) => line.includes('\\textbf{'))) {
      expect(row.match(/\\textbf\{/g), row).toHaveLength(1);
    }
  });

  it('lists artifacts with media types and serves the code, with a streamed archive that contains it', async () => {
    const { body } = await api<{ artifacts: ArtifactEntry[] }>(stack, `/v1/runs/${run.id}/artifacts`);
    const byPath = Object.fromEntries(body.artifacts.map((a) => [a.path, a]));
    expect(byPath['paper/paper.pdf']!.mediaType).toBe('application/pdf');
    expect(byPath['paper/paper.tex']).toBeDefined();
    expect(byPath['best/experiment.py']!.mediaType).toMatch(/text\/x-python/);
    expect(Object.values(byPath).some((a) => a.path.startsWith('figures/') && a.mediaType === 'image/png')).toBe(true);
    for (const path of [
      'manifest.json',
      'best/reproduce.sh',
      'paper/claims.json',
      'review.json',
      'transcript.jsonl',
      'ideas.json',
    ]) {
      expect(byPath[path], path).toBeDefined();
    }

    const code = await (
      await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/best/experiment.py`, { headers: authHeaders(stack) })
    ).text();
    expect(code).toContain('results.json');

    const archive = await fetch(`${stack.apiUrl}/v1/runs/${run.id}/archive`, { headers: authHeaders(stack) });
    expect(archive.headers.get('content-type')).toBe('application/gzip');
    const names = tarNames(Buffer.from(await archive.arrayBuffer()));
    expect(names).toContain(`${run.id}/best/experiment.py`);
    expect(names).toContain(`${run.id}/nodes/n001/experiment.py`);
    expect(names).toContain(`${run.id}/manifest.json`);
    expect(names).toContain(`${run.id}/paper/paper.pdf`);

    const codeOnly = tarNames(
      Buffer.from(
        await (
          await fetch(`${stack.apiUrl}/v1/runs/${run.id}/archive?subset=code`, { headers: authHeaders(stack) })
        ).arrayBuffer(),
      ),
    );
    expect(codeOnly).toContain(`${run.id}/nodes/n002/experiment.py`);
    expect(codeOnly.some((n) => n.includes('/paper/'))).toBe(false);
  });

  it('traces every number in the tables to the results.json it came from (claims.json)', async () => {
    const claims = (
      await api<{ claims: { id: string; kind: string; value: number | null; artifact: string; key: string | null }[] }>(
        stack,
        `/v1/runs/${run.id}/artifacts/paper/claims.json`,
      )
    ).body.claims;
    const cells = claims.filter((c) => c.kind === 'table_cell');
    expect(cells.length).toBeGreaterThan(5);
    const files = new Map<string, Record<string, unknown>>();
    for (const cell of cells) {
      if (!files.has(cell.artifact)) {
        const res = await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/${cell.artifact}`, {
          headers: authHeaders(stack),
        });
        files.set(cell.artifact, (await res.json()) as Record<string, unknown>);
      }
      const recorded = cell
        .key!.split('.')
        .reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], files.get(cell.artifact));
      expect(recorded, cell.id).toBe(cell.value);
    }
    expect(claims.some((c) => c.kind === 'figure')).toBe(true);
  });

  it('resumes the event stream after Last-Event-ID with every event exactly once', async () => {
    const all = events.map((e) => e.id);
    const replay = await readSse(stack, run.id, { timeoutMs: 30_000 });
    expect(replay.events.map((e) => e.id)).toEqual(all);
    for (const cut of [1, Math.floor(all.length / 2), all.length - 2]) {
      const resumed = await readSse(stack, run.id, { lastEventId: all[cut - 1] });
      expect(resumed.ended).toBe(true);
      expect([...all.slice(0, cut), ...resumed.events.map((e) => e.id)]).toEqual(all);
    }
    const atEnd = await readSse(stack, run.id, { lastEventId: all.at(-1), timeoutMs: 10_000 });
    expect(atEnd.events).toEqual([]);
    expect(atEnd.ended).toBe(true);
  });

  it('pages the same events as JSON', async () => {
    const collected: string[] = [];
    let after = '0';
    for (let page = 0; page < 100; page++) {
      const { body } = await api<EventPage>(stack, `/v1/runs/${run.id}/events?after=${after}&limit=7`, {
        headers: { accept: 'application/json' },
      });
      collected.push(...body.events.map((e) => e.id));
      if (body.next === null) {
        expect(body.finished).toBe(true);
        break;
      }
      after = body.next;
    }
    expect(collected).toEqual(events.map((e) => e.id));
  });

  it('keeps the model API key out of every event, artifact and sandbox, and leaves no container behind', async () => {
    const raw = (await readSse(stack, run.id)).raw;
    expect(raw).not.toContain(TEST_API_KEY);
    const { body } = await api<{ artifacts: ArtifactEntry[] }>(stack, `/v1/runs/${run.id}/artifacts`);
    for (const artifact of body.artifacts.filter(
      (a) => !a.mediaType.startsWith('image/') && !a.path.endsWith('.pdf'),
    )) {
      const text = await (
        await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/${artifact.path}`, { headers: authHeaders(stack) })
      ).text();
      expect(text, artifact.path).not.toContain(TEST_API_KEY);
    }
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`autolab.run=${run.id}`] } });
    expect(containers).toEqual([]);
  });

  it('sent the run id to the model endpoint so calls can be attributed', () => {
    const keys = stack.scripted.callsFor(run.id).map((c) => c.key);
    expect(keys.slice(0, 3)).toEqual(['propose_ideas', 'refine_ideas', 'draft_experiment']);
    expect(keys).toContain('review_execution');
    expect(keys).toContain('write_plot_code');
    expect(keys).toContain('write_paper');
    expect(keys.filter((k) => k === 'submit_review')).toHaveLength(3);
    // The meta-review, then the distillation of the run's lessons (docs/lessons.md).
    expect(keys.slice(-2)).toEqual(['submit_meta_review', 'record_lessons']);
  });

  it('finishes a run whose model answers malformed replies first', async () => {
    const bad = await submitRun(stack, { goal: GOAL, maxIterations: 4, model: 'malformed', search: { numDrafts: 1 } });
    const stream = await readSse(stack, bad.id, { timeoutMs: 240_000 });
    const final = stream.events.at(-1)!;
    expect(final.type).toBe('run.finished');
    expect((final.data as { status: string }).status).toBe('succeeded');
    const errors = stream.events.filter((e) => e.type === 'error');
    expect(errors.length).toBeGreaterThanOrEqual(4);
    expect(errors.every((e) => (e.data as { code: string }).code === 'malformed_model_reply')).toBe(true);
    const pdf = await fetch(`${stack.apiUrl}/v1/runs/${bad.id}/artifacts/paper/paper.pdf`, {
      headers: authHeaders(stack),
    });
    expect(pdf.status).toBe(200);
  });
});
