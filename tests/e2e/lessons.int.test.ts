import type { Lesson, LessonDetail, LessonList, RunEvent, RunRecord, SearchStats } from '@autolab/contracts';
import { emptyCounts } from '@autolab/lessons';
import { RedisKeys, SearchStatsStore } from '@autolab/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../apps/cli/src/cli.js';
import { captureIo } from '../../apps/cli/src/testing/stub-server.js';
import { api, readSse, type Stack, startStack, submitRun } from '../stack.js';

/**
 * Lessons across runs through the real stack (API, worker, Redis, Docker, the scripted model over HTTP): run A hits a
 * crash and fixes it, and its distilled lessons carry evidence read from A's recorded nodes; run B on a related goal
 * gets A's pitfall in its draft prompt (counted at the model server, from the request bodies); run C on an unrelated
 * goal gets no lesson at all; another tenant never sees any of them. Then the API's pin, retract, delete and sharing.
 */

let stack: Stack;
let otherKey: string;
let runA: string;
let eventsA: RunEvent[];
let pitfall: Lesson;

const GOAL_A =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';
const GOAL_B =
  'Does min-max scaling speed up batch gradient descent for logistic regression on synthetic features with very different scales?';
const GOAL_C = 'Estimate how a toy program’s reported score responds to turning its single knob.';
const DEMO = { maxIterations: 6, search: { numDrafts: 1 }, review: { reviewers: 1 } };
const HOSTS = {
  model: 'hosts',
  maxIterations: 2,
  seeds: 0,
  ideation: { numIdeas: 1, reflections: 0 },
  review: { reviewers: 0 },
};

async function finished(runId: string): Promise<RunEvent[]> {
  const stream = await readSse(stack, runId, { timeoutMs: 240_000 });
  expect(stream.ended).toBe(true);
  const last = stream.events.at(-1)!;
  expect(last.type).toBe('run.finished');
  expect((last.data as { status: string }).status).toBe('succeeded');
  return stream.events;
}

const ofType = <T>(events: RunEvent[], type: string) => events.filter((e) => e.type === type).map((e) => e.data as T);

beforeAll(async () => {
  stack = await startStack();
  const created = await api<{ key: string }>(stack, '/v1/admin/keys', {
    method: 'POST',
    key: stack.adminKey,
    body: JSON.stringify({ tenant: 'other', name: 'another tenant' }),
  });
  otherKey = created.body.key;
  runA = (await submitRun(stack, { goal: GOAL_A, ...DEMO })).id;
  eventsA = await finished(runA);
}, 300_000);

afterAll(async () => {
  await stack?.close();
});

describe('lessons across runs (real stack, scripted model)', () => {
  it('distils run A into lessons whose evidence leads back to its nodes and their results.json', async () => {
    const [learned] = ofType<{ created: string[]; updated: string[]; dropped: number }>(eventsA, 'lessons.learned');
    expect(learned!.created).toHaveLength(2);
    const { body: list } = await api<LessonList>(stack, '/v1/lessons');
    expect(list.lessons.map((l) => l.id).sort()).toEqual([...learned!.created].sort());
    pitfall = list.lessons.find((l) => l.kind === 'pitfall')!;
    expect(pitfall.tenant).toBe('test');

    const { status, body: detail } = await api<LessonDetail>(stack, `/v1/lessons/${pitfall.id}`);
    expect(status).toBe(200);
    const [evidence] = detail.evidence;
    // The crash n001 and its fix n002, as the engine recorded them (not as the model told it).
    expect(evidence).toMatchObject({ runId: runA, nodeId: 'n002', parentNodeId: 'n001', stance: 'supports' });
    expect(evidence!.error).toMatch(/shape|align|broadcast|mismatch|exit code/i);
    const node = await api<{ id: string; buggy: boolean; primary: number }>(stack, evidence!.links.node);
    expect(node.body).toMatchObject({ id: 'n002', buggy: false });
    const results = await api<Record<string, unknown>>(stack, evidence!.links.results!);
    expect(results.status).toBe(200);
    expect(evidence!.after).toBe(node.body.primary);
    expect(evidence!.metric).toBe('final_loss_standardized');
    expect(results.body.final_loss_standardized).toBe(evidence!.after);
  });

  it('gives run B (a related goal) the pitfall in its draft prompt, and run C (unrelated) no lesson at all', async () => {
    const runB = (await submitRun(stack, { goal: GOAL_B, ...DEMO })).id;
    const eventsB = await finished(runB);
    const draftsB = stack.scripted.callsFor(runB).filter((c) => c.key === 'draft_experiment');
    expect(draftsB.length).toBeGreaterThan(0);
    for (const call of draftsB) expect(call.lessonIds).toContain(pitfall.id);
    const applied = ofType<{ step: string; lessonIds: string[] }>(eventsB, 'lessons.applied');
    expect(applied.some((a) => a.lessonIds.includes(pitfall.id) && /draft/.test(a.step))).toBe(true);
    const tex = await api<string>(stack, `/v1/runs/${runB}/artifacts/paper/paper.tex`);
    expect(tex.body).toContain(`\\path{${pitfall.id}}`);
    // B distilled the same pitfall again: merged into A's lesson, which now rests on two runs.
    const [learnedB] = ofType<{ updated: string[] }>(eventsB, 'lessons.learned');
    expect(learnedB!.updated).toContain(pitfall.id);
    const merged = (await api<LessonDetail>(stack, `/v1/lessons/${pitfall.id}`)).body;
    expect(merged.evidence.map((e) => e.runId)).toEqual([runA, runB]);
    expect(merged.confidence).toBeCloseTo(0.75);

    const runC = (await submitRun(stack, { goal: GOAL_C, ...HOSTS })).id;
    const eventsC = await finished(runC);
    const callsC = stack.scripted.callsFor(runC);
    expect(callsC.length).toBeGreaterThan(0);
    for (const call of callsC) expect(call.lessonIds).toEqual([]);
    expect(ofType(eventsC, 'lessons.applied')).toEqual([]);
  }, 600_000);

  it('never shows one tenant’s lessons to another', async () => {
    const { body: theirs } = await api<LessonList>(stack, '/v1/lessons', { key: otherKey });
    expect(theirs.lessons).toEqual([]);
    const q = encodeURIComponent('logistic regression gradient descent shape mismatch bias column');
    expect((await api<LessonList>(stack, `/v1/lessons?q=${q}`, { key: otherKey })).body.lessons).toEqual([]);
    for (const path of [
      `/v1/lessons/${pitfall.id}`,
      `/v1/lessons/${pitfall.id.toUpperCase()}`,
      '/v1/lessons/les_%2e%2e',
    ]) {
      const res = await api<{ error: { code: string } }>(stack, path, { key: otherKey });
      expect(res.status).toBe(404);
      expect(res.body.error.code).toBe('lesson_not_found');
    }
    const patch = await api<{ error: { code: string } }>(stack, `/v1/lessons/${pitfall.id}`, {
      method: 'PATCH',
      key: otherKey,
      body: JSON.stringify({ retracted: true }),
    });
    expect(patch.status).toBe(404);
    const del = await api(stack, `/v1/lessons/${pitfall.id}`, { method: 'DELETE', key: otherKey });
    expect(del.status).toBe(404);
    expect((await api<Lesson>(stack, `/v1/lessons/${pitfall.id}`)).body.retracted).toBe(false);
  });

  it('shows the lessons and their evidence with the CLI (autolab lessons), against the real API', async () => {
    const cli = async (...argv: string[]) => {
      const { io, stdout, stderr } = captureIo();
      const code = await runCli(argv, { env: { AUTOLAB_URL: stack.apiUrl, AUTOLAB_API_KEY: stack.apiKey }, io });
      return { code, stdout: stdout(), stderr: stderr() };
    };
    const list = await cli('lessons', 'list', 'shape', 'mismatch', 'in', 'gradient', 'descent', '--kind', 'pitfall');
    expect(list.code).toBe(0);
    // Run B distilled the same pitfall again: one lesson with two runs behind it and a higher confidence.
    expect(list.stdout).toMatch(
      new RegExp(`^ID +KIND +CONF +RUNS +FLAGS +LESSON\n${pitfall.id} +pitfall +0\\.75 +2 +- +Logistic`),
    );
    const show = await cli('lessons', 'show', pitfall.id);
    expect(show.code).toBe(0);
    expect(show.stdout).toContain(`+ ${runA} n002 (of n001) final_loss_standardized failed → `);
    expect(show.stdout).toContain(`/v1/runs/${runA}/artifacts/nodes/n002/results.json`);
    const missing = await cli('lessons', 'show', 'les_00000000000000000000000000');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/lesson_not_found|no lesson/i);
    expect((await cli('lessons', 'list', '--kind', 'rumour')).code).not.toBe(0);
  });

  it('searches, pins, retracts and deletes through the API', async () => {
    const q = encodeURIComponent('gradient descent crashed: shapes not aligned, bias column missing');
    const found = await api<LessonList>(stack, `/v1/lessons?q=${q}&kind=pitfall`);
    expect(found.body.lessons[0]!.id).toBe(pitfall.id);
    const bad = await api<{ error: { code: string } }>(stack, '/v1/lessons?kind=rumour&limit=0');
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('validation_failed');
    const empty = await api<{ error: { code: string } }>(stack, `/v1/lessons/${pitfall.id}`, {
      method: 'PATCH',
      body: JSON.stringify({}),
    });
    expect(empty.status).toBe(400);

    const pinned = await api<Lesson>(stack, `/v1/lessons/${pitfall.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ pinned: true }),
    });
    expect(pinned.body.pinned).toBe(true);
    await api(stack, `/v1/lessons/${pitfall.id}`, { method: 'PATCH', body: JSON.stringify({ retracted: true }) });
    expect((await api<LessonList>(stack, `/v1/lessons?q=${q}`)).body.lessons.map((l) => l.id)).not.toContain(
      pitfall.id,
    );
    expect((await api<LessonList>(stack, `/v1/lessons?q=${q}&retracted=include`)).body.lessons[0]!.id).toBe(pitfall.id);

    const setting = (await api<LessonList>(stack, '/v1/lessons?kind=setting')).body.lessons[0]!;
    expect((await api(stack, `/v1/lessons/${setting.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await api(stack, `/v1/lessons/${setting.id}`)).status).toBe(404);
  });

  it('counts the search of every finished run for its tenant; too few for the defaults to move yet', async () => {
    const { body: stats } = await api<SearchStats>(stack, '/v1/search-stats');
    // A and B: a draft that crashed and its fix; C: a draft that worked.
    expect(stats).toMatchObject({ runs: 3, drafts: 3, draftsWorked: 1, debugs: { 1: 2 }, debugsFixed: { 1: 2 } });
    expect(stats.defaults.map((d) => [d.field, d.tuned])).toEqual([
      ['numDrafts', false],
      ['debugProb', false],
      ['maxDebugDepth', false],
    ]);
    const other = await api<SearchStats>(stack, '/v1/search-stats', { key: otherKey });
    expect(other.body.runs).toBe(0);
  });

  it('sets the search defaults a run leaves out from its tenant’s statistics, never one it sets', async () => {
    // Another tenant whose drafts rarely worked and whose fixes came at the first debug: recorded as finished runs
    // would record them.
    const stats = new SearchStatsStore(stack.redis, new RedisKeys(stack.prefix));
    for (let i = 0; i < 4; i++) {
      await stats.record('other', `run_seeded${i}`, {
        ...emptyCounts(),
        drafts: 3,
        draftsWorked: i === 0 ? 1 : 0,
        debugs: { 1: 2, 2: 1 },
        debugsFixed: { 1: 2 },
      });
    }
    const submit = async (body: Record<string, unknown>, key?: string) => {
      const res = await api<RunRecord>(stack, '/v1/runs', {
        method: 'POST',
        key: otherKey,
        body: JSON.stringify({ goal: GOAL_C, ...HOSTS, ...body }),
        ...(key ? { headers: { 'idempotency-key': key } } : {}),
      });
      expect(res.status).toBe(202);
      await api(stack, `/v1/runs/${res.body.id}/cancel`, { method: 'POST', key: otherKey });
      return res.body;
    };
    const tuned = await submit({}, 'tuned-once');
    // 1 of 12 drafts worked: (1+1)/(12+2) = 0.14 → ⌈ln 0.25 / ln 0.86⌉ = 9, capped at 5; 8 of 12 debugs fixed:
    // 9/14 = 0.64; every fix at depth 1.
    expect(tuned.policy.search).toMatchObject({ numDrafts: 5, debugProb: 0.64, maxDebugDepth: 1 });
    expect(tuned.policy.searchTuning.map((t) => [t.field, t.value, t.tuned])).toEqual([
      ['numDrafts', 5, true],
      ['debugProb', 0.64, true],
      ['maxDebugDepth', 1, true],
    ]);
    expect(tuned.policy.searchTuning[0]!.reason).toMatch(/1 of 12 drafts worked/);
    // The same request with the same key is the same run, however the statistics moved since.
    await stats.record('other', 'run_seeded_more', { ...emptyCounts(), drafts: 10, draftsWorked: 10 });
    expect((await submit({}, 'tuned-once')).id).toBe(tuned.id);
    const own = await submit({ search: { numDrafts: 2, maxDebugDepth: 4 } });
    expect(own.policy.search).toMatchObject({ numDrafts: 2, maxDebugDepth: 4 });
    expect(own.policy.searchTuning.map((t) => t.field)).toEqual(['debugProb']);
  });

  it('shares a library read-only with a named tenant, and stops sharing', async () => {
    const share = (readers: string[]) =>
      api<{ tenant: string; readers: string[] }>(stack, '/v1/admin/tenants/test/lesson-readers', {
        method: 'PUT',
        key: stack.adminKey,
        body: JSON.stringify({ readers }),
      });
    // Only an admin may share.
    expect(
      (await api(stack, '/v1/admin/tenants/test/lesson-readers', { method: 'PUT', body: '{"readers":["other"]}' }))
        .status,
    ).toBe(403);
    expect((await share(['other'])).body).toEqual({ tenant: 'test', readers: ['other'] });
    const seen = await api<LessonList>(stack, '/v1/lessons', { key: otherKey });
    expect(seen.body.lessons.length).toBeGreaterThan(0);
    expect(seen.body.lessons.every((l) => l.tenant === 'test')).toBe(true);
    const id = seen.body.lessons[0]!.id;
    const change = await api<{ error: { code: string } }>(stack, `/v1/lessons/${id}`, {
      method: 'PATCH',
      key: otherKey,
      body: JSON.stringify({ pinned: true }),
    });
    expect(change.status).toBe(409);
    expect(change.body.error.code).toBe('lesson_read_only');
    await share([]);
    expect((await api<LessonList>(stack, '/v1/lessons', { key: otherKey })).body.lessons).toEqual([]);
  });
});
