import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createLogger, loadWorkerConfig, startWorker } from '@autolab/worker';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../stack.js';
import { startWorkerProcess } from '../worker-process.js';

/**
 * The warm pool of a worker process (`AUTOLAB_SANDBOX_WARM_POOL`) against the real Docker engine: a worker killed with
 * SIGKILL leaves its idle pooled containers behind; another deployment's worker starting up leaves them alone; the
 * next start of that worker reaps them. A graceful shutdown removes them itself.
 */
const docker = new Docker();
let stack: Stack;
let other: Stack;

const pooledOf = (workerId: string) =>
  docker.listContainers({
    all: true,
    filters: { label: ['autolab.pool=true', `autolab.worker=${workerId}`] },
  });

async function until<T>(what: string, probe: () => Promise<T | false>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe('warm sandbox pool of a worker process', () => {
  beforeAll(async () => {
    stack = await startStack({ worker: false });
  });
  afterAll(async () => {
    await stack?.close();
    await other?.close();
  });

  it('leaves its pooled containers when killed; other deployments keep off them, its next start reaps them', async () => {
    const id = `pool-worker-${randomBytes(3).toString('hex')}`;
    const doomed = startWorkerProcess(stack.workerEnv({ AUTOLAB_SANDBOX_WARM_POOL: '2' }), id);
    const before = await until('two warm sandboxes', async () => {
      const found = await pooledOf(id);
      return found.length === 2 && found.every((c) => c.State === 'running') && found;
    });
    doomed.child.kill('SIGKILL');
    await once(doomed.child, 'exit');
    expect((await pooledOf(id)).map((c) => c.Id).sort()).toEqual(before.map((c) => c.Id).sort());

    // Another deployment (its own Redis prefix, so its own id) reaps at start-up: not these.
    other = await startStack();
    expect(await pooledOf(id)).toHaveLength(2);

    // The same worker started again (as a service manager would) reaps what its killed self left.
    const config = loadWorkerConfig(stack.workerEnv({ AUTOLAB_SANDBOX_WARM_POOL: '0' }));
    const restarted = await startWorker({ ...config, workerId: id }, createLogger('warn', 'worker'));
    try {
      expect(await pooledOf(id)).toEqual([]);
    } finally {
      await restarted.close();
    }
  });

  it('removes its idle pooled containers when it shuts down', async () => {
    const id = `pool-worker-${randomBytes(3).toString('hex')}`;
    const worker = startWorkerProcess(stack.workerEnv({ AUTOLAB_SANDBOX_WARM_POOL: '1' }), id);
    await until('a warm sandbox', async () => (await pooledOf(id)).length === 1);
    await worker.stop();
    expect(worker.child.exitCode).toBe(0);
    expect(await pooledOf(id)).toEqual([]);
  });
});
