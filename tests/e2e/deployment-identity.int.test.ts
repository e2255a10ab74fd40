import { randomBytes } from 'node:crypto';
import type { RunRecord } from '@autolab/contracts';
import { DEFAULT_LIMITS, DockerSandbox, LABEL_DEPLOYMENT, listRunContainers } from '@autolab/sandbox';
import { deploymentId, RedisKeys } from '@autolab/store';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisServer, startRedisServer } from '../redis-server.js';
import { api, readSse, type Stack, startStack, submitRun, waitForStatus } from '../stack.js';

/**
 * Two deployments on different Redis servers, with the same key prefix, share one Docker engine. Each has its own
 * generated deployment id; a starting worker of one reaps its own deployment's leftovers and never touches the other's
 * running sandboxes (before, the prefix was the scope, and a worker removed every sandbox whose run its Redis did not
 * know).
 */
const docker = new Docker();
const prefix = `autolab-test-dep-${randomBytes(4).toString('hex')}`;
let second: RedisServer;
let first: Stack;
let other: Stack;

describe('deployment identity', () => {
  beforeAll(async () => {
    second = await startRedisServer();
    first = await startStack({ prefix });
    other = await startStack({ prefix, redisUrl: second.url, worker: false });
  });
  afterAll(async () => {
    await first?.close();
    await other?.close();
    await second?.stop();
  });

  it("gives each deployment its own id, and one deployment's reaper leaves the other's running sandboxes alone", async () => {
    const firstId = await first.redis.get(`${prefix}:deployment`);
    expect(firstId).toMatch(/^dep_[0-9a-f]{24}$/);

    const run = await submitRun(first, { goal: 'Count slowly while another deployment starts.', model: 'slow' });
    await readSse(first, run.id, {
      stopWhen: (e) => e.type === 'exec.output' && (e.data as { text: string }).text.includes('step 2'),
      timeoutMs: 120_000,
    });
    const sandboxes = await listRunContainers(docker, run.id);
    expect(sandboxes).toHaveLength(1);
    const labels = (await docker.getContainer(sandboxes[0]!).inspect()).Config.Labels;
    expect(labels).toMatchObject({
      [LABEL_DEPLOYMENT]: firstId,
      'autolab.run': run.id,
      'autolab.attempt': '1',
      'autolab.worker': first.worker!.workerId,
    });

    // The other deployment starts its first worker: its id is generated in its own Redis. A leftover of its own (a
    // run its Redis does not know, a worker that is gone) is reaped at start; the first deployment's sandbox is not.
    expect(await other.redis.get(`${prefix}:deployment`)).toBeNull();
    const otherId = await deploymentId(other.redis, new RedisKeys(prefix));
    expect(otherId).not.toBe(firstId);
    const leftoverRun = `run_leftover${randomBytes(4).toString('hex')}`;
    const leftover = await DockerSandbox.create(docker, process.env.AUTOLAB_PYTHON_IMAGE!, DEFAULT_LIMITS, {
      deployment: otherId,
      runId: leftoverRun,
      attempt: 1,
      role: 'python',
      workerId: 'a-worker-that-died',
    });
    try {
      await other.startWorker();
      expect(await listRunContainers(docker, run.id)).toEqual(sandboxes);
      expect((await docker.getContainer(sandboxes[0]!).inspect()).State.Running).toBe(true);
      expect(await listRunContainers(docker, leftoverRun)).toEqual([]);

      // The first run goes on undisturbed: more output from the same sandbox, still running.
      await readSse(first, run.id, {
        stopWhen: (e) => e.type === 'exec.output' && (e.data as { text: string }).text.includes('step 12'),
        timeoutMs: 60_000,
      });
      expect((await api<RunRecord>(first, `/v1/runs/${run.id}`)).body.status).toBe('running');
    } finally {
      await leftover.close();
    }

    await api(first, `/v1/runs/${run.id}/cancel`, { method: 'POST' });
    expect((await waitForStatus(first, run.id, ['cancelled', 'failed', 'succeeded'], 30_000)).status).toBe('cancelled');
    expect(await listRunContainers(docker, run.id)).toEqual([]);
  });
});
