import type { RunEvent } from '@autolab/contracts';
import { registeredRuntimes, type SandboxRuntime } from '@autolab/sandbox';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, readSse, type Stack, startStack, submitRun, TEST_API_KEY } from '../stack.js';

/**
 * Model-written code that attacks the sandbox (scenario hostile.yaml): a memory hog, a program that forks to the
 * pid limit and exits, one that leaves processes behind and exits, a fork bomb, a hang with a detached child, and a
 * probe that reports what it can reach, writes a file over the output limit and floods stdout. Each must end as a
 * clean failed (or probing) node while the run goes on and succeeds — under runc, and under gVisor (runsc) where
 * the Docker engine has it registered.
 */
const docker = new Docker();
const runtimes = await registeredRuntimes(docker);
const withoutGvisor = !runtimes.includes('runsc');
if (withoutGvisor) {
  console.warn(
    'hostile-code: gVisor (runsc) is not registered with this Docker engine; the hostile programs run under runc only',
  );
}

type Finished = {
  nodeId: string;
  buggy: boolean;
  exitCode: number | null;
  timedOut: boolean;
  error: string | null;
  metrics: Record<string, number>;
  stdoutTail: string;
  skippedOutputs: string | null;
};

describe.each(runtimes)('hostile experiment code under %s', (runtime: SandboxRuntime) => {
  let stack: Stack;
  let events: RunEvent[];
  let runId: string;

  beforeAll(async () => {
    stack = await startStack({ workerEnv: { AUTOLAB_SANDBOX_RUNTIME: runtime } });
    const run = await submitRun(stack, {
      goal: 'Check that the sandbox contains misbehaving experiment programs.',
      model: 'hostile',
      maxIterations: 8,
      sandbox: { memoryMb: 512, execTimeoutSeconds: 8 },
      search: { numDrafts: 1, maxDebugDepth: 5 },
      seeds: 0,
      review: { reviewers: 1 },
    });
    runId = run.id;
    events = (await readSse(stack, run.id, { timeoutMs: 420_000 })).events;
  }, 440_000);

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

  it('ends the memory hog at the memory limit and says so', () => {
    expect(node('n001')).toMatchObject({ buggy: true, timedOut: false });
    expect(node('n001').error).toMatch(/out-of-memory killer at its 512 MB memory limit/);
  });

  it('fails the program that forks to the pid limit and exits, and goes on', () => {
    expect(node('n002').buggy).toBe(true);
    if (runtime === 'runc') {
      expect(node('n002')).toMatchObject({ exitCode: 1, timedOut: false });
      expect(node('n002').error).toMatch(/^exited with code 1: .*BlockingIOError/);
    } else {
      // gVisor's kernel cannot hold a host pid limit: the whole sandbox ends, and the node says so.
      expect(node('n002').error).toMatch(/^(the sandbox ended while the program ran|exited with code 1)/);
    }
  });

  it('fails the program that leaves processes behind for what it did, not for its leftovers', () => {
    expect(node('n003')).toMatchObject({ buggy: true, exitCode: 0, timedOut: false });
    expect(node('n003').error).toBe('exited normally but wrote no results.json');
  });

  it('ends the fork bomb and the hang (with its detached child) at the timeout', () => {
    if (runtime === 'runc') expect(node('n004')).toMatchObject({ buggy: true, timedOut: true });
    else expect(node('n004').buggy).toBe(true);
    expect(node('n005')).toMatchObject({ buggy: true, timedOut: true });
    expect(node('n005').error).toMatch(/timed out after 8 s/);
  });

  it('gives the code no network, no writable root, no Docker socket, no secrets, no leftovers and a non-root uid', () => {
    const probe = node('n006');
    expect(probe.buggy).toBe(false);
    expect(probe.metrics).toMatchObject({
      probe_ok: 1,
      network_reachable: 0,
      dns_works: 0,
      root_writable: 0,
      docker_socket_visible: 0,
      env_has_secret: 0,
      stray_processes: 0,
      uid: 1000,
    });
    // gVisor shows no /sys/class/net; under runc only the loopback interface is there.
    if (runtime === 'runc') expect(probe.metrics.network_interfaces).toBe(1);
  });

  it('keeps a file over the output limit in the sandbox and reports it', async () => {
    expect(node('n006').skippedOutputs).toMatch(/^1 file\(s\) \(30\.0 MB\) not copied out .*big\.bin.*per-file limit/);
    const warning = events.find((e) => e.type === 'warning' && (e.data as { code: string }).code === 'outputs_skipped');
    expect(warning?.message).toMatch(/^n006: .*big\.bin/);
    const missing = await api(stack, `/v1/runs/${runId}/artifacts/nodes/n006/files/big.bin`);
    expect(missing.status).toBe(404);
  });

  it('caps a 20 MB flood of output in events and in what it keeps', async () => {
    const streamed = events
      .filter((e) => e.type === 'exec.output' && (e.data as { nodeId: string }).nodeId === 'n006')
      .reduce((sum, e) => sum + (e.data as { text: string }).text.length, 0);
    expect(streamed).toBeLessThan(80_000);
    expect(node('n006').stdoutTail.length).toBeLessThanOrEqual(2000);
    const saved = (await api<string>(stack, `/v1/runs/${runId}/artifacts/nodes/n006/stdout.txt`)).body;
    expect(saved.length).toBeLessThan(100_000);
    expect(saved).toMatch(/\d+ bytes of output dropped/);
    expect(saved).toContain('probe finished');
  });

  it('never shows the API key and removes every container of the run', async () => {
    const raw = (await readSse(stack, runId)).raw;
    expect(raw).not.toContain(TEST_API_KEY);
    const containers = await docker.listContainers({ all: true, filters: { label: [`autolab.run=${runId}`] } });
    expect(containers).toEqual([]);
    const { body } = await api<{ status: string }>(stack, `/v1/runs/${runId}`);
    expect(body.status).toBe('succeeded');
  });
});

if (withoutGvisor) {
  describe('hostile experiment code under runsc', () => {
    it.skip('not run: gVisor (runsc) is not registered with this Docker engine (docs/security.md)', () => {});
  });
}
