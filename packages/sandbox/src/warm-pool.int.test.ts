import { randomBytes } from 'node:crypto';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerClient } from './docker-client.js';
import { listRunContainers, reapSandboxes } from './reaper.js';
import { DockerSandboxFactory } from './sandbox-factory.js';
import {
  containerSpec,
  DEFAULT_LIMITS,
  LABEL_DEPLOYMENT,
  LABEL_POOL,
  LABEL_RUN,
  LABEL_WORKER,
} from './sandbox-limits.js';
import { WarmPool, type WarmPoolOptions } from './warm-pool.js';

const image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
const docker = new DockerClient({ retryMs: 5000 });
const deployment = `dep_pooltest${randomBytes(3).toString('hex')}`;
const pools: WarmPool[] = [];

function pool(options: Partial<WarmPoolOptions> = {}, client: Docker = docker): WarmPool {
  const warm = new WarmPool(client, {
    size: 1,
    idleTtlMs: 0,
    deployment,
    workerId: `w-${randomBytes(3).toString('hex')}`,
    runtime: 'runc',
    image,
    limits: DEFAULT_LIMITS,
    ...options,
  });
  pools.push(warm);
  return warm;
}

/** This deployment's pooled containers of one worker (idle or taken). */
async function pooled(workerId: string): Promise<Docker.ContainerInfo[]> {
  return docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_POOL}=true`, `${LABEL_DEPLOYMENT}=${deployment}`, `${LABEL_WORKER}=${workerId}`] },
  });
}

async function until<T>(what: string, probe: () => Promise<T | null | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function factory(runId: string, warm: WarmPool): DockerSandboxFactory {
  return new DockerSandboxFactory(
    docker,
    { python: image, latex: image },
    { deployment, runId, attempt: 1, workerId: 'w' },
    {},
    'runc',
    [],
    [],
    warm,
  );
}

afterAll(async () => {
  await Promise.all(pools.map((p) => p.close()));
  const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_DEPLOYMENT}=${deployment}`] } });
  await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
});

describe('WarmPool (real Docker engine)', () => {
  it('starts containers with exactly the spec a run gives them, labelled for this deployment and worker', async () => {
    const warm = pool({ size: 2 });
    const { workerId } = (warm as unknown as { options: WarmPoolOptions }).options;
    warm.start();
    const [first] = await until('two idle sandboxes', async () => warm.idleCount === 2 && pooled(workerId));
    const info = await docker.getContainer(first!.Id).inspect();
    const expected = containerSpec(image, DEFAULT_LIMITS, {
      deployment,
      runId: '',
      attempt: 0,
      role: 'python',
      workerId,
      pooled: true,
    });
    const host = expected.HostConfig!;
    expect(info.HostConfig).toMatchObject({
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      CapDrop: host.CapDrop,
      SecurityOpt: host.SecurityOpt,
      Privileged: false,
      PidsLimit: host.PidsLimit,
      Memory: host.Memory,
      MemorySwap: host.MemorySwap,
      NanoCpus: host.NanoCpus,
      Tmpfs: host.Tmpfs,
      IpcMode: 'private',
      Runtime: 'runc',
    });
    expect(info.Config.User).toBe(expected.User);
    expect(info.Config.Env ?? []).not.toContainEqual(expect.stringMatching(/^(OPENAI|AUTOLAB|REDIS)/));
    expect(info.Config.Labels).toMatchObject({
      [LABEL_POOL]: 'true',
      [LABEL_DEPLOYMENT]: deployment,
      [LABEL_WORKER]: workerId,
      [LABEL_RUN]: '',
    });
    // Bounded: never more idle than the size, also after a while.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(await pooled(workerId)).toHaveLength(2);
    await warm.close();
    expect(await pooled(workerId)).toEqual([]);
  });

  it('gives each run a fresh container that no other run used, and refills behind it', async () => {
    const warm = pool({ size: 1 });
    const { workerId } = (warm as unknown as { options: WarmPoolOptions }).options;
    const hits: boolean[] = [];
    (warm as unknown as { options: WarmPoolOptions }).options.onTake = (hit) => hits.push(hit);
    warm.start();
    await until('a warm sandbox', async () => warm.idleCount === 1);
    const runA = `run_poola${randomBytes(4).toString('hex')}`;
    const runB = `run_poolb${randomBytes(4).toString('hex')}`;

    const a = factory(runA, warm);
    const sandboxA = await a.open('python');
    // A brand-new sandbox needs no reset: its first program starts from the empty workspace as is.
    const first = await sandboxA.runProgram({
      files: [{ path: 'main.py', content: Buffer.from('print("hello")') }],
      command: ['bash', '-c', 'python3 main.py; echo secret > /workspace/left.txt; echo secret > /tmp/left.txt'],
      exec: { timeoutMs: 30_000 },
      outputs: { maxFiles: 10, maxFileBytes: 1000, maxTotalBytes: 10_000 },
    });
    expect(first.exec.exitCode).toBe(0);
    expect(first.exec.stdout.text).toBe('hello\n');
    expect(first.files.map((f) => f.path).sort()).toEqual(['left.txt', 'main.py']);
    // Renamed after the run once its first program started, so the run's clean-up and a takeover find it by name.
    const [containerA] = await until(
      'the rename',
      async () => (await listRunContainers(docker, runA)).length === 1 && listRunContainers(docker, runA),
    );
    // The run's end removes its containers; the pool never gets them back.
    await a.closeAll();
    warm.release(runA);
    expect(await listRunContainers(docker, runA)).toEqual([]);

    await until('the refill', async () => warm.idleCount === 1);
    const b = factory(runB, warm);
    const sandboxB = await b.open('python');
    const look = await sandboxB.exec(['bash', '-c', 'ls -A /workspace /tmp; echo /proc/[0-9]*'], {
      timeoutMs: 10_000,
    });
    const [containerB] = await until(
      'the rename',
      async () => (await listRunContainers(docker, runB)).length === 1 && listRunContainers(docker, runB),
    );
    expect(containerB).not.toBe(containerA);
    expect(look.stdout.text).not.toContain('left.txt');
    // Only the supervisor (1) and the looking shell itself.
    expect(look.stdout.text.trim().split('\n').at(-1)!.split(' ')).toHaveLength(2);
    await b.closeAll();
    expect(hits).toEqual([true, true]);
    await warm.close();
    expect(await pooled(workerId)).toEqual([]);
  });

  it('misses for another image shape and then keeps that shape warm instead', async () => {
    const warm = pool({ size: 1 });
    warm.start();
    await until('a warm sandbox', async () => warm.idleCount === 1);
    const runId = `run_poolc${randomBytes(4).toString('hex')}`;
    const limits = { ...DEFAULT_LIMITS, memoryMb: 1024 };
    const identity = { deployment, runId, attempt: 1, role: 'python', workerId: 'w' };
    expect(await warm.take(image, limits, identity)).toBeNull();
    // The refill replaces the idle sandbox of the default shape with one of the shape just asked for.
    await until('the new shape', async () => {
      const taken = warm.idleCount === 1 ? await warm.take(image, limits, identity) : null;
      return taken;
    }).then((sandbox) => sandbox.close());
    await warm.close();
  });

  it('replaces idle sandboxes older than the TTL', async () => {
    const warm = pool({ size: 1, idleTtlMs: 1500 });
    const { workerId } = (warm as unknown as { options: WarmPoolOptions }).options;
    warm.start();
    const [old] = await until('a warm sandbox', async () => warm.idleCount === 1 && pooled(workerId));
    const [fresh] = await until('its replacement', async () => {
      const now = await pooled(workerId);
      return now.length === 1 && now[0]!.Id !== old!.Id && warm.idleCount === 1 && now;
    });
    expect(fresh!.Id).not.toBe(old!.Id);
    await warm.close();
  });

  it('backs off while Docker is unreachable instead of spinning', async () => {
    const failures: number[] = [];
    const warm = pool(
      { size: 2, onStartFailed: (_err, retryInMs) => failures.push(retryInMs) },
      new Docker({ socketPath: `/tmp/no-docker-here-${randomBytes(3).toString('hex')}.sock` }),
    );
    warm.start();
    await new Promise((resolve) => setTimeout(resolve, 3500));
    await warm.close();
    // 1 s, 2 s, then 4 s: two or three tries in 3.5 s, not thousands.
    expect(failures.length).toBeGreaterThanOrEqual(2);
    expect(failures.length).toBeLessThanOrEqual(3);
    expect(failures.slice(0, 2)).toEqual([1000, 2000]);
  });

  it("is reaped once its worker is gone, and only by its own deployment's reaper", async () => {
    const warm = pool({ size: 1 });
    const { workerId } = (warm as unknown as { options: WarmPoolOptions }).options;
    warm.start();
    const [container] = await until('a warm sandbox', async () => warm.idleCount === 1 && pooled(workerId));
    // Another deployment's reaper never touches it, even for a worker it thinks dead.
    await reapSandboxes(docker, `${deployment}-other`, {
      keep: async () => false,
      keepPooled: async () => false,
    });
    expect(await pooled(workerId)).toHaveLength(1);
    // This deployment's reaper keeps it while its worker lives and holds it.
    await reapSandboxes(docker, deployment, {
      keep: async () => false,
      keepPooled: async (id, worker) => worker === workerId && warm.holds(id, () => false),
    });
    expect(await pooled(workerId)).toHaveLength(1);
    // The worker is gone: removed.
    const removed = await reapSandboxes(docker, deployment, { keep: async () => false, keepPooled: async () => false });
    expect(removed).toContain(container!.Id);
    expect(await pooled(workerId)).toEqual([]);
  });
});
