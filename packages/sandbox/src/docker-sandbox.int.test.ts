import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerSandbox } from './docker-sandbox.js';
import { listRunContainers, reapSandboxes } from './reaper.js';
import { DEFAULT_LIMITS } from './sandbox-limits.js';

const docker = new Docker();
const image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
const runId = `run_sandboxtest${Date.now()}`;
let sandbox: DockerSandbox;

const py = (code: string, timeoutMs = 60_000) => sandbox.exec(['python3', '-c', code], { timeoutMs });

describe('DockerSandbox (real Docker engine)', () => {
  beforeAll(async () => {
    // A key in the worker's environment must not leak into the sandbox.
    process.env.OPENAI_API_KEY = 'sk-test-secret-must-not-leak';
    sandbox = await DockerSandbox.create(
      docker,
      image,
      { ...DEFAULT_LIMITS, memoryMb: 256, pidsLimit: 64, workspaceMb: 64 },
      { deployment: 'sandbox-test', runId, attempt: 1, role: 'python', workerId: 'test-worker' },
    );
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('has no network interface but lo', async () => {
    const result = await sandbox.exec(['ls', '/sys/class/net'], { timeoutMs: 10_000 });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.text.trim().split(/\s+/)).toEqual(['lo']);
    const connect = await py(
      'import socket\ntry:\n  socket.create_connection(("1.1.1.1", 80), timeout=3); print("connected")\nexcept OSError as e: print("refused", e)',
    );
    expect(connect.stdout.text).toContain('refused');
  });

  it('runs as a non-root user without the worker environment', async () => {
    const result = await sandbox.exec(['sh', '-c', 'id -u; env'], { timeoutMs: 10_000 });
    const [uid, ...env] = result.stdout.text.trim().split('\n');
    expect(uid).toBe('1000');
    expect(env.join('\n')).not.toContain('sk-test-secret-must-not-leak');
    expect(env.join('\n')).not.toContain('OPENAI');
  });

  it('refuses writes to / and allows them in /workspace', async () => {
    const root = await sandbox.exec(['sh', '-c', 'echo x > /evil.txt'], { timeoutMs: 10_000 });
    expect(root.exitCode).not.toBe(0);
    expect(root.stderr.text).toMatch(/Read-only file system|Permission denied/);
    const ws = await sandbox.exec(['sh', '-c', 'echo ok > /workspace/fine.txt && cat /workspace/fine.txt'], {
      timeoutMs: 10_000,
    });
    expect(ws.stdout.text.trim()).toBe('ok');
  });

  it('kills a process tree at the timeout, including processes that left the process group', async () => {
    const started = Date.now();
    const result = await sandbox.exec(['sh', '-c', 'setsid sleep 600 & sleep 600'], { timeoutMs: 2000 });
    expect(result.timedOut).toBe(true);
    expect(Date.now() - started).toBeLessThan(15_000);
    const ps = await sandbox.exec(['ps', '-eo', 'user,comm'], { timeoutMs: 10_000 });
    expect(ps.stdout.text).not.toMatch(/sleep.*\n.*sleep|1000\s+sleep/);
    expect(ps.stdout.text.match(/sleep/g)?.length ?? 0).toBe(1); // only the container's own keep-alive
  });

  it('ends a memory hog with a clean out-of-memory result', async () => {
    const result = await py('x = []\nwhile True: x.append(bytearray(50 * 1024 * 1024))');
    expect(result.exitCode).toBe(137);
    expect(result.outOfMemory).toBe(true);
    const after = await sandbox.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout.text.trim()).toBe('alive');
  });

  it('survives a fork bomb, which ends at the timeout', async () => {
    const result = await sandbox.exec(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30'], { timeoutMs: 3000 });
    expect(result.timedOut).toBe(true);
    const after = await sandbox.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout.text.trim()).toBe('alive');
  });

  it('caps a 50 MB flood of stdout and says how much was dropped', async () => {
    const chunks: number[] = [];
    const result = await sandbox.exec(['sh', '-c', 'head -c 52428800 /dev/zero | tr "\\0" "x"; echo END'], {
      timeoutMs: 60_000,
      onOutput: (_stream, chunk) => chunks.push(chunk.length),
    });
    expect(result.exitCode).toBe(0);
    expect(result.stdout.totalBytes).toBe(52428800 + 4);
    expect(result.stdout.droppedBytes).toBeGreaterThan(50_000_000);
    expect(result.stdout.text.length).toBeLessThan(100_000);
    expect(result.stdout.text).toContain('bytes of output dropped');
    expect(result.stdout.text.trimEnd().endsWith('END')).toBe(true);
  });

  it('moves files in and out as tar, skipping links instead of following them', async () => {
    await sandbox.reset();
    await sandbox.writeFiles([
      { path: 'experiment.py', content: Buffer.from('print("hi")\n') },
      { path: 'data/input.txt', content: Buffer.from('1 2 3') },
    ]);
    await sandbox.exec(['sh', '-c', 'ln -s /etc/passwd link && echo r > out.txt'], { timeoutMs: 10_000 });
    const { files, skipped } = await sandbox.readFiles({ maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 });
    const byPath = Object.fromEntries(files.map((f) => [f.path, f.content.toString()]));
    expect(byPath).toEqual({ 'experiment.py': 'print("hi")\n', 'data/input.txt': '1 2 3', 'out.txt': 'r\n' });
    expect(skipped).toContain('./link');
    await expect(sandbox.writeFiles([{ path: '../escape', content: Buffer.from('x') }])).rejects.toThrow(/outside/);
  });

  it('stops a disk-filling experiment at the workspace cap', async () => {
    const result = await sandbox.exec(['sh', '-c', 'head -c 200000000 /dev/zero > /workspace/big; echo rc=$?'], {
      timeoutMs: 30_000,
    });
    expect(result.stderr.text).toMatch(/No space left on device/);
    await sandbox.reset();
  });

  it('leaves no container with the run label after close, and the reaper removes orphans', async () => {
    const orphan = await DockerSandbox.create(docker, image, DEFAULT_LIMITS, {
      deployment: 'sandbox-test',
      runId: `${runId}x`,
      attempt: 1,
      role: 'python',
      workerId: 'dead-worker',
    });
    expect(await listRunContainers(docker, `${runId}x`)).toHaveLength(1);
    const other = await DockerSandbox.create(docker, image, DEFAULT_LIMITS, {
      deployment: 'another-deployment',
      runId: `${runId}y`,
      attempt: 1,
      role: 'python',
      workerId: 'dead-worker',
    });
    const removed = await reapSandboxes(docker, 'sandbox-test', {
      keep: async (_run, worker) => worker !== 'dead-worker',
    });
    // Another deployment's containers are never touched, even with a dead worker.
    expect(await listRunContainers(docker, `${runId}y`)).toHaveLength(1);
    await other.close();
    expect(removed).toContain(orphan.containerId);
    expect(await listRunContainers(docker, `${runId}x`)).toHaveLength(0);
    await sandbox.close();
    expect(await listRunContainers(docker, runId)).toHaveLength(0);
  });
});
