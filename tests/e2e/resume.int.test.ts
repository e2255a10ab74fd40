import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { RunEvent } from '@autolab/contracts';
import { joinCheckpoint } from '@autolab/engine';
import { RedisKeys, RunStore } from '@autolab/store';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, authHeaders, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * A worker process killed with SIGKILL mid-run: BullMQ re-delivers the job once its lock expires, another worker
 * resumes from the checkpoint, finished experiments are not re-run and their model calls are not repeated (the
 * scripted model server counts them); a node that was running when the worker died (two run at once) is run again
 * from its saved code, so every node that was created ends. Also: a worker stopped with SIGTERM hands its run back to the queue, and a
 * finished run re-run from its writeup reuses every experiment.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let stack: Stack;

function startWorkerProcess(env: Record<string, string>, id: string): ChildProcess {
  // node itself (not npx), so the exit code is the worker's own.
  return spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    env: { ...env, AUTOLAB_WORKER_ID: id, LOG_LEVEL: 'warn' },
    // Its own process group, so a SIGKILL also takes any child it started.
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

const request = {
  goal: 'How does standardizing the features affect the convergence of logistic regression trained by gradient descent?',
  maxIterations: 6,
  search: { numDrafts: 1 },
  seeds: 1,
  review: { reviewers: 1 },
};

const callCounts = (runId: string) => {
  const counts: Record<string, number> = {};
  for (const call of stack.scripted.callsFor(runId)) counts[call.key] = (counts[call.key] ?? 0) + 1;
  return counts;
};

describe('resume after a worker dies', () => {
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('finishes a run whose worker was SIGKILLed, without repeating finished nodes or their model calls', async () => {
    const child = startWorkerProcess(stack.workerEnv(), 'doomed-worker');
    const run = await submitRun(stack, request);
    // Let two experiments finish, then kill the worker without warning.
    await readSse(stack, run.id, {
      stopWhen: (e) => e.type === 'node.finished' && (e.data as { nodeId: string }).nodeId === 'n002',
      timeoutMs: 180_000,
    });
    process.kill(-child.pid!, 'SIGKILL');
    await once(child, 'exit');
    const before = callCounts(run.id);

    const rescuer = await stack.startWorker();
    const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    await rescuer.close();
    expect(final.status).toBe('succeeded');
    expect(final.attempt).toBe(2);

    const after = callCounts(run.id);
    // The calls that produced n001 and n002 (and the ideas before them) were not made again.
    for (const key of ['propose_ideas', 'refine_ideas', 'draft_experiment', 'debug_experiment']) {
      expect(after[key], key).toBe(before[key]);
    }
    const events: RunEvent[] = (await readSse(stack, run.id)).events;
    const created = events.filter((e) => e.type === 'node.created').map((e) => (e.data as { nodeId: string }).nodeId);
    expect(created.filter((id) => id === 'n001')).toHaveLength(1);
    expect(created.filter((id) => id === 'n002')).toHaveLength(1);
    const started = events
      .filter((e) => e.type === 'run.started')
      .map((e) => e.data as { attempt: number; resumedAt: number | null });
    expect(started.map((s) => s.attempt)).toEqual([1, 2]);
    expect(started[1]!.resumedAt).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });
    // Nothing the dead worker started is still running.
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`autolab.run=${run.id}`] } });
    expect(containers).toEqual([]);
  });

  it('runs again the node that was in flight when a worker running two nodes at once was SIGKILLed', async () => {
    const child = startWorkerProcess(stack.workerEnv(), 'parallel-doomed-worker');
    // slow-resume.yaml: the two drafts run at once; one counts for half a minute, the other finishes in seconds.
    const run = await submitRun(stack, {
      goal: 'Can a long experiment survive the death of its worker?',
      model: 'slow-resume',
      maxIterations: 4,
      seeds: 0,
      search: { numDrafts: 2, nodeConcurrency: 2 },
      review: { reviewers: 0 },
      ideation: { numIdeas: 1, reflections: 0 },
    });
    const firstFinished = await readSse(stack, run.id, {
      stopWhen: (e) => e.type === 'node.finished',
      timeoutMs: 180_000,
    });
    const quick = (firstFinished.events.at(-1)!.data as { nodeId: string }).nodeId;
    // Kill once the checkpoint has the quick node finished and the slow one still running.
    type Saved = { nodes: { id: string }[]; pendingNodes: { id: string; code: string }[] };
    let saved: Saved | null = null;
    const until = Date.now() + 30_000;
    const store = new RunStore(stack.redis, new RedisKeys(stack.prefix));
    while (Date.now() < until) {
      saved = joinCheckpoint(await store.loadCheckpoint(run.id)) as Saved | null;
      if (saved?.nodes.some((n) => n.id === quick) && saved.pendingNodes.length === 1) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(saved?.nodes.map((n) => n.id)).toEqual([quick]);
    const slow = saved!.pendingNodes[0]!.id;
    expect(saved!.pendingNodes[0]!.code).toContain('time.sleep');
    process.kill(-child.pid!, 'SIGKILL');
    await once(child, 'exit');
    const before = callCounts(run.id);

    const rescuer = await stack.startWorker();
    const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    await rescuer.close();
    expect(final.status).toBe('succeeded');
    expect(final.attempt).toBe(2);
    // The slow node was run again from its saved code: the model was not asked for it again.
    expect(callCounts(run.id).draft_experiment).toBe(before.draft_experiment);

    const events: RunEvent[] = (await readSse(stack, run.id)).events;
    const data = (e: RunEvent) => e.data as { nodeId: string; buggy?: boolean; error?: string | null; code?: string };
    // Every node that was created ended: its last node.created is followed by a node.finished.
    const created = new Set(events.filter((e) => e.type === 'node.created').map((e) => data(e).nodeId));
    for (const id of created) {
      const lastCreated = events.findLastIndex((e) => e.type === 'node.created' && data(e).nodeId === id);
      const finishedAfter = events.slice(lastCreated).some((e) => e.type === 'node.finished' && data(e).nodeId === id);
      expect(finishedAfter, `${id} never finished`).toBe(true);
    }
    expect([...created].sort()).toEqual([quick, slow].sort());
    expect(events.filter((e) => e.type === 'node.created' && data(e).nodeId === slow)).toHaveLength(2);
    expect(events.filter((e) => e.type === 'node.created' && data(e).nodeId === quick)).toHaveLength(1);
    expect(events.some((e) => e.type === 'warning' && data(e).code === 'node_redone')).toBe(true);
    const slowFinished = events.filter((e) => e.type === 'node.finished' && data(e).nodeId === slow);
    expect(slowFinished).toHaveLength(1);
    expect(data(slowFinished[0]!)).toMatchObject({ buggy: false });
    // Both drafts count in the baseline stage and are in the journal.
    const baseline = events.find(
      (e) => e.type === 'stage.finished' && (e.data as { stage: string }).stage === 'baseline',
    );
    expect(baseline?.message).toContain('2 experiment(s)');
    const journal = (await (
      await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/journal.json`, { headers: authHeaders(stack) })
    ).json()) as { nodes: { id: string }[]; lost: unknown[] };
    expect(journal.nodes.map((n) => n.id).sort()).toEqual([quick, slow].sort());
    expect(journal.lost).toEqual([]);
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`autolab.run=${run.id}`] } });
    expect(containers).toEqual([]);
  }, 300_000);

  it('hands the run back to the queue when its worker is stopped with SIGTERM', async () => {
    const child = startWorkerProcess(stack.workerEnv(), 'stopping-worker');
    const run = await submitRun(stack, request);
    await readSse(stack, run.id, {
      stopWhen: (e) => e.type === 'node.finished' && (e.data as { nodeId: string }).nodeId === 'n001',
      timeoutMs: 180_000,
    });
    process.kill(-child.pid!, 'SIGTERM');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
    // No other worker runs yet, so the run waits in the queue until one comes.
    const requeued = await waitForStatus(stack, run.id, ['queued'], 10_000);
    expect(requeued.status).toBe('queued');
    // As if the stopped worker were of the version before per-node storage (a deployment upgraded while the run was
    // in flight): its checkpoint is one JSON document of the whole state, and there is no hash of nodes.
    const keys = new RedisKeys(stack.prefix);
    const whole = joinCheckpoint(await new RunStore(stack.redis, keys).loadCheckpoint(run.id)) as { nodes: unknown[] };
    expect(whole.nodes.length).toBeGreaterThanOrEqual(1);
    await stack.redis
      .multi()
      .set(keys.checkpoint(run.id), JSON.stringify(whole))
      .del(keys.checkpointNodes(run.id))
      .exec();
    await stack.startWorker();
    const final = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    expect(final.status).toBe('succeeded');
    const events = (await readSse(stack, run.id)).events;
    expect(events.map((e) => e.type)).toContain('run.requeued');
    // Resumed from the old-format checkpoint: the nodes it held were not run again.
    const resumed = events.filter((e) => e.type === 'run.started').at(-1)!.data as { resumedAt: number | null };
    expect(resumed.resumedAt).toBe(whole.nodes.length);
    const created = events.filter((e) => e.type === 'node.created').map((e) => (e.data as { nodeId: string }).nodeId);
    expect(created.filter((id) => id === 'n001')).toHaveLength(1);
    // And it is stored in the new shape now: a head without nodes, the nodes in their hash.
    const head = JSON.parse((await stack.redis.get(keys.checkpoint(run.id)))!) as {
      nodes?: unknown;
      nodeIds: string[];
    };
    expect(head.nodes).toBeUndefined();
    expect(await stack.redis.hlen(keys.checkpointNodes(run.id))).toBe(head.nodeIds.length);
  });
  it('reruns only the writeup and review of a finished run, reusing its experiments and their model calls', async () => {
    const worker = await stack.startWorker();
    const run = await submitRun(stack, request);
    const first = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    expect(first.status).toBe('succeeded');
    const before = callCounts(run.id);
    const eventsBefore = (await readSse(stack, run.id)).events.length;
    const experimentCode = await (
      await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/nodes/n002/experiment.py`, {
        headers: authHeaders(stack),
      })
    ).text();

    const rerun = await api<{ status: string }>(stack, `/v1/runs/${run.id}/rerun`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ fromStage: 'writeup' }),
    });
    expect(rerun.status).toBe(202);
    const second = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 240_000);
    await worker.close();
    expect(second.status).toBe('succeeded');
    expect(second.attempt).toBeGreaterThan(first.attempt);

    const after = callCounts(run.id);
    // No idea, experiment, judgement, seed or plot was redone: only the paper and its reviews (and the lessons, which a
    // rerun distils again when it ends; merging them is idempotent).
    for (const key of Object.keys(before).filter(
      (k) => !['write_paper', 'fix_latex', 'submit_review', 'submit_meta_review', 'record_lessons'].includes(k),
    )) {
      expect(after[key], key).toBe(before[key]);
    }
    expect(after.write_paper).toBe(before.write_paper! + 1);
    expect(after.record_lessons).toBe(before.record_lessons! + 1);
    expect(after.submit_review! - before.submit_review!).toBe(request.review.reviewers);
    const rerunEvents = (await readSse(stack, run.id)).events.slice(eventsBefore);
    const types = rerunEvents.map((e) => e.type);
    expect(types[0]).toBe('run.requeued');
    expect(types).not.toContain('node.created');
    expect(types).not.toContain('idea.chosen');
    expect(types).toContain('paper.ready');
    expect(types).toContain('review.completed');
    expect(rerunEvents.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });
    const stages = rerunEvents
      .filter((e) => e.type === 'stage.started')
      .map((e) => (e.data as { stage: string }).stage);
    expect(stages).toEqual(['writeup', 'review']);
    // The experiments it reused are still there, unchanged, and the new paper is a PDF.
    const codeAfter = await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/nodes/n002/experiment.py`, {
      headers: authHeaders(stack),
    });
    expect(await codeAfter.text()).toBe(experimentCode);
    const pdf = await fetch(`${stack.apiUrl}/v1/runs/${run.id}/artifacts/paper/paper.pdf`, {
      headers: authHeaders(stack),
    });
    expect(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 4)
        .toString(),
    ).toBe('%PDF');
  });
});
