import type { RunEvent } from '@autolab/contracts';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun, TEST_API_KEY } from '../stack.js';

/**
 * Model-written code that attacks the sandbox (scenario hostile.yaml): a memory hog, a fork bomb, a hang with a
 * detached child, and a probe that reports what it can reach and floods stdout. Each must end as a clean failed
 * (or probing) node while the run goes on and succeeds.
 */
let stack: Stack;
let events: RunEvent[];
let runId: string;

type Finished = {
  nodeId: string;
  buggy: boolean;
  timedOut: boolean;
  error: string | null;
  metrics: Record<string, number>;
  stdoutTail: string;
};

describe('hostile experiment code', () => {
  beforeAll(async () => {
    stack = await startStack();
    const run = await submitRun(stack, {
      goal: 'Check that the sandbox contains misbehaving experiment programs.',
      model: 'hostile',
      maxIterations: 6,
      sandbox: { memoryMb: 512, execTimeoutSeconds: 8 },
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 1 },
    });
    runId = run.id;
    events = (await readSse(stack, run.id, { timeoutMs: 300_000 })).events;
  }, 320_000);

  afterAll(async () => {
    await stack?.close();
  });

  const node = (id: string) =>
    events.find((e) => e.type === 'node.finished' && (e.data as Finished).nodeId === id)!.data as Finished;

  it('survives every attack and finishes the run', () => {
    const final = events.at(-1)!;
    expect(final.type).toBe('run.finished');
    expect((final.data as { status: string }).status).toBe('succeeded');
  });

  it('ends the memory hog at the memory limit', () => {
    expect(node('n001')).toMatchObject({ buggy: true, timedOut: false });
    expect(node('n001').error).toMatch(/memory limit of 512 MB/);
  });

  it('ends the fork bomb and the hang (with its detached child) at the timeout', () => {
    expect(node('n002')).toMatchObject({ buggy: true, timedOut: true });
    expect(node('n003')).toMatchObject({ buggy: true, timedOut: true });
    expect(node('n003').error).toMatch(/timed out after 8 s/);
  });

  it('gives the code no network, no writable root, no Docker socket, no secrets and a non-root uid', () => {
    const probe = node('n004');
    expect(probe.buggy).toBe(false);
    expect(probe.metrics).toMatchObject({
      probe_ok: 1,
      network_reachable: 0,
      dns_works: 0,
      root_writable: 0,
      network_interfaces: 1,
      docker_socket_visible: 0,
      env_has_secret: 0,
      uid: 1000,
    });
  });

  it('caps a 20 MB flood of output in events and in what it keeps', async () => {
    const streamed = events
      .filter((e) => e.type === 'exec.output' && (e.data as { nodeId: string }).nodeId === 'n004')
      .reduce((sum, e) => sum + (e.data as { text: string }).text.length, 0);
    expect(streamed).toBeLessThan(80_000);
    expect(node('n004').stdoutTail.length).toBeLessThanOrEqual(2000);
    const saved = (await api<string>(stack, `/v1/runs/${runId}/artifacts/nodes/n004/stdout.txt`)).body;
    expect(saved.length).toBeLessThan(100_000);
    expect(saved).toMatch(/\d+ bytes of output dropped/);
    expect(saved).toContain('probe finished');
  });

  it('never shows the API key and removes every container of the run', async () => {
    const raw = (await readSse(stack, runId)).raw;
    expect(raw).not.toContain(TEST_API_KEY);
    const containers = await new Docker().listContainers({ all: true, filters: { label: [`autolab.run=${runId}`] } });
    expect(containers).toEqual([]);
    const { body } = await api<{ status: string }>(stack, `/v1/runs/${runId}`);
    expect(body.status).toBe('succeeded');
  });
});
