import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent, RunRecord } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerEngine, SANDBOX_IMAGES, startDockerEngine } from '../docker-engine.js';
import { type S3Server, startS3Server } from '../s3-server.js';
import { api, authHeaders, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';
import { startWorkerProcess, type WorkerProcess } from '../worker-process.js';

/**
 * Workers on two hosts. The second "host" is a second Docker engine on this machine (tests/docker-engine.ts); each
 * worker is its own process with its own DOCKER_HOST, data directory and temp directory, so the two share nothing
 * but Redis and an S3-protocol server, as workers on two machines would. One API. Six runs spread over both
 * workers; then one worker is killed (SIGKILL) and its engine stopped while its runs are in the middle of an
 * experiment: the surviving worker resumes them on its own engine and they succeed, no finished experiment is run
 * again, and no sandbox is left on the surviving engine. The stopped engine's leftovers (its sandboxes, stopped
 * when it went down) are removed by the reaper of the next worker that starts on that engine.
 */
// hosts.yaml: the draft n001 (about a second), the improved n002 (about eight seconds, mostly waiting: the window in which
// a host is lost), a figure and a short paper.
const REQUEST = {
  goal: 'Does tuning raise the score of a program?',
  model: 'hosts',
  maxIterations: 2,
  seeds: 0,
  search: { numDrafts: 1 },
  review: { reviewers: 0 },
  ideation: { numIdeas: 1, reflections: 0 },
};
const RUNS = 6;

interface Host {
  name: string;
  dockerHost: string;
  docker: Docker;
  /** This host's own AUTOLAB_DATA_DIR and TMPDIR: nothing on disk is shared between hosts. */
  dirs: string[];
  worker: WorkerProcess | null;
}

let engine: DockerEngine;
let s3: S3Server;
let stack: Stack;
const hosts: Host[] = [];
const keyPrefix = `multi-host-${randomBytes(4).toString('hex')}`;

/** Every event of a run so far (the JSON pages of the events API: no waiting for the run to end). */
async function eventsOf(runId: string): Promise<RunEvent[]> {
  const events: RunEvent[] = [];
  for (let after = '0'; ; ) {
    const res = await fetch(`${stack.apiUrl}/v1/runs/${runId}/events?after=${after}&limit=1000`, {
      headers: { ...authHeaders(stack), accept: 'application/json' },
    });
    if (res.status !== 200) throw new Error(`events of ${runId}: ${res.status} ${await res.text()}`);
    const page = (await res.json()) as { events: RunEvent[]; next: string | null };
    events.push(...page.events);
    if (page.events.length === 0 || page.next === null) return events;
    after = page.next;
  }
}

const nodeId = (e: RunEvent) => (e.data as { nodeId: string }).nodeId;
const finishedNodes = (events: RunEvent[]) => events.filter((e) => e.type === 'node.finished').map(nodeId);
const startedBy = (events: RunEvent[]) =>
  events.filter((e) => e.type === 'run.started').map((e) => (e.data as { worker: string }).worker);

/**
 * Host a drives up to five runs at once, host b three: of six runs, b always gets at least one and a at least three,
 * and after b is lost a has room for b's runs without waiting for its own to end.
 */
const CONCURRENCY: Record<string, string> = { a: '3', b: '3' };

function startHostWorker(host: Host, name: string): WorkerProcess {
  const [dataDir, tmp] = host.dirs as [string, string];
  return startWorkerProcess(
    stack.workerEnv({
      ...s3.env(keyPrefix),
      DOCKER_HOST: host.dockerHost,
      AUTOLAB_DATA_DIR: dataDir,
      TMPDIR: tmp,
      AUTOLAB_WORKER_CONCURRENCY: CONCURRENCY[host.name]!,
      LOG_LEVEL: 'info',
    }),
    name,
  );
}

/** Waits until the worker's heartbeat is in Redis (it is ready to take runs). */
async function ready(worker: WorkerProcess): Promise<void> {
  // Two workers compile their TypeScript at once on two cores: more than a minute when the machine is busy.
  const end = Date.now() + 120_000;
  while ((await stack.redis.exists(`${stack.prefix}:worker:${worker.id}`)) === 0) {
    if (worker.child.exitCode !== null) throw new Error(`worker ${worker.id} exited: ${worker.log().slice(-2000)}`);
    if (Date.now() > end) throw new Error(`worker ${worker.id} did not start: ${worker.log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function deploymentContainers(docker: Docker, deployment: string) {
  return docker.listContainers({ all: true, filters: { label: [`autolab.deployment=${deployment}`] } });
}

describe('workers on two hosts (two Docker engines), artifacts on S3', () => {
  beforeAll(async () => {
    const started = Date.now();
    engine = await startDockerEngine({ images: SANDBOX_IMAGES });
    console.info(
      `second engine up in ${Date.now() - started} ms (images loaded in ${engine.imageLoadMs} ms; 0 = cached)`,
    );
    s3 = await startS3Server();
    // This process also serves S3 and the model to six runs at once on two cores: the API's Redis calls may need
    // more than the default 2 s before it answers 503 (the redis-outage test covers that answer).
    stack = await startStack({
      worker: false,
      apiEnv: { ...s3.env(keyPrefix), AUTOLAB_REDIS_COMMAND_TIMEOUT_SECONDS: '10' },
    });
    const mainHost = process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
    for (const [name, dockerHost, docker] of [
      ['a', mainHost, new Docker()],
      ['b', engine.host, engine.docker],
    ] as const) {
      const dirs = [
        await mkdtemp(join(tmpdir(), `autolab-host-${name}-data-`)),
        await mkdtemp(join(tmpdir(), `autolab-host-${name}-tmp-`)),
      ];
      hosts.push({ name, dockerHost, docker, dirs, worker: null });
    }
    for (const host of hosts)
      host.worker = startHostWorker(host, `host-${host.name}-${randomBytes(3).toString('hex')}`);
    await Promise.all(hosts.map((host) => ready(host.worker!)));
  }, 600_000);

  afterAll(async () => {
    for (const host of hosts) {
      const child = host.worker?.child;
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    const deployment = stack ? await stack.redis.get(`${stack.prefix}:deployment`) : null;
    // Whatever a failed test left on the main engine, of this deployment only.
    if (deployment && hosts[0]) {
      for (const info of await deploymentContainers(hosts[0].docker, deployment)) {
        await hosts[0].docker
          .getContainer(info.Id)
          .remove({ force: true })
          .catch(() => undefined);
      }
    }
    await engine?.close();
    await stack?.close();
    await s3?.close();
    for (const host of hosts) for (const dir of host.dirs) await rm(dir, { recursive: true, force: true });
  }, 120_000);

  it('spreads six runs over both hosts; a host lost mid-run has its runs resumed on the other, none redone', async () => {
    const [a, b] = hosts as [Host, Host];
    const deployment = (await stack.redis.get(`${stack.prefix}:deployment`))!;
    const runs: RunRecord[] = [];
    for (let i = 0; i < RUNS; i++) runs.push(await submitRun(stack, REQUEST));

    const owner = new Map<string, string>();
    const end = Date.now() + 60_000;
    while (owner.size < RUNS && Date.now() < end) {
      for (const run of runs) {
        if (owner.has(run.id)) continue;
        const [worker] = startedBy(await eventsOf(run.id));
        if (worker) owner.set(run.id, worker);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(owner.size).toBe(RUNS);
    const onB = runs.filter((run) => owner.get(run.id) === b.worker!.id).map((run) => run.id);
    const onA = runs.filter((run) => owner.get(run.id) === a.worker!.id).map((run) => run.id);
    expect(onA.length).toBeGreaterThan(0);
    expect(onB.length).toBeGreaterThan(0);

    // Host b goes down once one of its runs has finished an experiment and started the next.
    const finishedBefore = new Map<string, string[]>();
    const lossEnd = Date.now() + 120_000;
    let victim: string | undefined;
    while (!victim && Date.now() < lossEnd) {
      for (const id of onB) {
        const events = await eventsOf(id);
        const finished = finishedNodes(events);
        const created = events.filter((e) => e.type === 'node.created').map(nodeId);
        if (
          finished.length > 0 &&
          created.some((n) => !finished.includes(n)) &&
          !events.some((e) => e.type === 'run.finished')
        )
          victim = id;
      }
      if (!victim) await new Promise((r) => setTimeout(r, 100));
    }
    expect(victim, 'no run on host b reached its second experiment').toBeDefined();
    b.worker!.child.kill('SIGKILL');
    await once(b.worker!.child, 'exit');
    const lostAt = Date.now();
    // What the dead worker had finished (read before its job locks expire, so before host a can resume anything).
    const interrupted: string[] = [];
    for (const id of onB) {
      const events = await eventsOf(id);
      finishedBefore.set(id, finishedNodes(events));
      if (!events.some((e) => e.type === 'run.finished')) interrupted.push(id);
    }
    await engine.stop();
    expect(interrupted).toContain(victim);
    // Host a's engine holds host a's sandboxes only: b's stayed on b's engine, now out of reach.
    const onMainEngine = await deploymentContainers(a.docker, deployment);
    expect(onMainEngine.every((c) => c.Labels['autolab.worker'] === a.worker!.id)).toBe(true);

    const finals = await Promise.all(
      runs.map((run) => waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 300_000)),
    );
    console.info(`all runs ended ${Date.now() - lostAt} ms after host b was lost`);
    for (const final of finals) expect(final.status, `${final.id}: ${JSON.stringify(final.error)}`).toBe('succeeded');

    for (const id of interrupted) {
      const events = await eventsOf(id);
      // Started on b, resumed on a (attempt 2), after the experiments b had finished.
      expect(startedBy(events)).toEqual([b.worker!.id, a.worker!.id]);
      const resumed = events.filter((e) => e.type === 'run.started').at(-1)!.data as {
        attempt: number;
        resumedAt: number;
      };
      expect(resumed.attempt).toBe(2);
      // (More when b died between saving a finished node and announcing it: the checkpoint comes first.)
      expect(resumed.resumedAt).toBeGreaterThanOrEqual(finishedBefore.get(id)!.length);
      // No experiment finished twice; those b had finished were not even started again.
      const finished = finishedNodes(events);
      expect(new Set(finished).size, id).toBe(finished.length);
      const created = events.filter((e) => e.type === 'node.created').map(nodeId);
      for (const node of finishedBefore.get(id)!)
        expect(
          created.filter((n) => n === node),
          `${id} ${node}`,
        ).toHaveLength(1);
      // The paper was written on host a from what host b stored in S3.
      const pdf = await fetch(`${stack.apiUrl}/v1/runs/${id}/artifacts/paper/paper.pdf`, {
        headers: authHeaders(stack),
      });
      expect(pdf.status).toBe(200);
      expect(
        Buffer.from(await pdf.arrayBuffer())
          .subarray(0, 5)
          .toString(),
      ).toBe('%PDF-');
      const journal = await api<{ nodes: { id: string }[] }>(stack, `/v1/runs/${id}/artifacts/journal.json`);
      expect(journal.body.nodes.map((n) => n.id).sort()).toEqual([...new Set(created)].sort());
    }
    for (const id of onA) expect(startedBy(await eventsOf(id))).toEqual([a.worker!.id]);

    // Nothing of this deployment is left on the surviving engine.
    expect(await deploymentContainers(a.docker, deployment)).toEqual([]);
    // Nothing was written to either host's disk: artifacts are in S3 only.
    for (const host of hosts) expect(await readdir(join(host.dirs[0]!, 'artifacts')).catch(() => [])).toEqual([]);

    // Host b comes back: its engine still holds the dead worker's sandboxes (stopped when the engine went down). The
    // first worker that starts there reaps them: their runs are over and their worker is gone. This one runs in the
    // test process, whose own environment names the main engine: its configured DOCKER_HOST must win.
    await engine.start();
    const leftovers = await deploymentContainers(b.docker, deployment);
    expect(leftovers.length).toBeGreaterThan(0);
    expect(leftovers.every((c) => c.Labels['autolab.worker'] === b.worker!.id && c.State !== 'running')).toBe(true);
    await stack.startWorker({ ...s3.env(keyPrefix), DOCKER_HOST: b.dockerHost, AUTOLAB_DATA_DIR: b.dirs[0]! });
    const reapEnd = Date.now() + 30_000;
    while ((await deploymentContainers(b.docker, deployment)).length > 0 && Date.now() < reapEnd) {
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await deploymentContainers(b.docker, deployment)).toEqual([]);
  }, 600_000);
});
