import { SandboxStepError } from '@autolab/engine';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerSandbox } from './docker-sandbox.js';
import { listRunContainers, reapSandboxes } from './reaper.js';
import { DEFAULT_LIMITS, type SandboxRuntime } from './sandbox-limits.js';
import { registeredRuntimes } from './sandbox-runtime.js';

const docker = new Docker();
const image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
const runtimes = await registeredRuntimes(docker);
if (!runtimes.includes('runsc')) {
  console.warn('gVisor (runsc) is not registered with this Docker engine: the sandbox tests run under runc only');
}

/** Forks until the pid limit refuses, then exits 1 and leaves every child holding its pid (issue 7, item 2). */
const FORK_TO_THE_LIMIT = `
import os, sys, time
n = 0
while True:
    try:
        pid = os.fork()
    except BlockingIOError:
        print("forked", n, flush=True)
        sys.exit(1)
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    n += 1
`;

/**
 * Takes every pid and keeps them: one failed fork is not enough, since a short-lived process of the engine's (an exec
 * on its way out) may hold a pid at that moment and free it right after. Forks fail for a whole second before it says
 * so, and any pid freed meanwhile is taken by one more child.
 */
const HOLD_EVERY_PID = `
import os, time
n = 0
failed_since = None
while True:
    try:
        pid = os.fork()
    except BlockingIOError:
        failed_since = failed_since or time.monotonic()
        if time.monotonic() - failed_since > 1:
            break
        time.sleep(0.01)
        continue
    if pid == 0:
        time.sleep(3600)
        os._exit(0)
    n += 1
    failed_since = None
print("forked", n, flush=True)
time.sleep(3600)
`;

describe.each(runtimes)('DockerSandbox under %s (real Docker engine)', (runtime: SandboxRuntime) => {
  const runId = `run_sandboxtest${runtime}${Date.now()}`;
  let sandbox: DockerSandbox;
  const py = (code: string, timeoutMs = 60_000) => sandbox.exec(['python3', '-c', code], { timeoutMs });
  /** Processes in the container besides the supervisor (PID 1) and the `ps` that lists them. */
  const leftovers = async () => {
    const ps = await sandbox.exec(['ps', '-eo', 'pid=,comm='], { timeoutMs: 10_000 });
    return ps.stdout.text
      .trim()
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => !/^1 /.test(line) && !/ ps$/.test(line));
  };

  beforeAll(async () => {
    // A key in the worker's environment must not leak into the sandbox.
    process.env.OPENAI_API_KEY = 'sk-test-secret-must-not-leak';
    sandbox = await DockerSandbox.create(
      docker,
      image,
      { ...DEFAULT_LIMITS, memoryMb: 256, pidsLimit: 64, workspaceMb: 64 },
      { deployment: 'sandbox-test', runId, attempt: 1, role: 'python', workerId: 'test-worker' },
      runtime,
    );
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('has no network interface but lo', async () => {
    const result = await py('import socket\nprint(" ".join(name for _, name in socket.if_nameindex()))');
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
    expect(await leftovers()).toEqual([]);
  });

  it('ends a detached child when its parent exits at once, not at the next reset', async () => {
    const result = await sandbox.exec(['sh', '-c', 'setsid sleep 3600 & nohup sleep 3600 >/dev/null 2>&1 & echo bye'], {
      timeoutMs: 10_000,
    });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false, sandboxLost: null });
    expect(await leftovers()).toEqual([]);
  });

  it('ends the children of a program that forks to the pid limit and exits, so files still come out', async () => {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'fork.py', content: Buffer.from(FORK_TO_THE_LIMIT) }]);
    const result = await sandbox.exec(['python3', 'fork.py'], { timeoutMs: 60_000 });
    if (runtime === 'runc') {
      expect(result).toMatchObject({ exitCode: 1, timedOut: false, sandboxLost: null });
      expect(result.stdout.text).toMatch(/forked \d+/);
      const { files } = await sandbox.readFiles({ maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 });
      expect(files.map((f) => f.path)).toEqual(['fork.py']);
      expect(await leftovers()).toEqual([]);
    } else {
      // gVisor's kernel cannot take a host pid limit: the whole sandbox ends, and says so.
      expect(result.sandboxLost).toMatch(/sandbox container/);
      await expect(sandbox.readFiles({ maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 })).rejects.toThrow(
        SandboxStepError,
      );
    }
    await sandbox.reset();
    const after = await sandbox.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout.text.trim()).toBe('alive');
  });

  it('ends a memory hog with a clean out-of-memory result', async () => {
    const result = await py('x = []\nwhile True: x.append(bytearray(50 * 1024 * 1024))');
    expect(result.outOfMemory).toBe(true);
    if (runtime === 'runc') expect(result.exitCode).toBe(137);
    else expect(result.sandboxLost).toMatch(/out-of-memory killer at its 256 MB memory limit/);
    await sandbox.reset();
    const after = await sandbox.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout.text.trim()).toBe('alive');
  });

  it('reports how much memory a program held when it was stopped at the time limit', async () => {
    const result = await py(
      'import time\nx = bytearray(200 * 1024 * 1024)\nprint("holding", flush=True)\ntime.sleep(600)',
      3000,
    );
    expect(result.timedOut).toBe(true);
    expect(result.outOfMemory).toBe(false);
    expect(result.memoryAtStop?.limitMb).toBe(256);
    expect(result.memoryAtStop?.usedMb).toBeGreaterThan(190);
  });

  it('survives a fork bomb, which ends at the timeout', async () => {
    const result = await sandbox.exec(['sh', '-c', 'bomb() { bomb | bomb & }; bomb; sleep 30'], { timeoutMs: 3000 });
    expect(result.timedOut || result.sandboxLost !== null).toBe(true);
    await sandbox.reset();
    const after = await sandbox.exec(['echo', 'alive'], { timeoutMs: 10_000 });
    expect(after.stdout.text.trim()).toBe('alive');
    expect(await leftovers()).toEqual([]);
  });

  // gVisor's kernel does not hold a pid limit of its own (the whole sandbox ends instead; see above).
  it.runIf(runtime === 'runc')('says why files could not be written while every pid is taken', async () => {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'fork.py', content: Buffer.from(HOLD_EVERY_PID) }]);
    let full: () => void = () => undefined;
    const pidsTaken = new Promise<void>((resolve) => {
      full = resolve;
    });
    // The program prints "forked N" once the pid limit refused a fork, and then holds every pid.
    const stopHolding = new AbortController();
    const holding = sandbox.exec(['python3', 'fork.py'], {
      timeoutMs: 30_000,
      signal: stopHolding.signal,
      onOutput: (_stream, text) => {
        if (text.includes('forked')) full();
      },
    });
    await pidsTaken;
    const error = await sandbox.writeFiles([{ path: 'x.txt', content: Buffer.from('x') }]).then(
      () => null,
      (err: Error) => err,
    );
    stopHolding.abort();
    await holding;
    expect(error).toBeInstanceOf(SandboxStepError);
    expect(error!.message).toMatch(/^writing files into the sandbox failed: \S/);
    expect(error!.message).toMatch(/could not be started.*holds \d+ of its 64 processes/);
    await sandbox.reset();
  });

  it('ends a program whose container is removed under it, and starts a fresh one for the next', async () => {
    const running = py('import time\ntime.sleep(600)');
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await docker.getContainer(sandbox.containerId!).remove({ force: true });
    const result = await running;
    expect(result.sandboxLost).toMatch(/removed|gone|stopped/);
    await sandbox.reset();
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
    expect(skipped).toEqual([{ path: 'link', bytes: expect.any(Number), reason: 'not_a_regular_file' }]);
    await expect(sandbox.writeFiles([{ path: '../escape', content: Buffer.from('x') }])).rejects.toThrow(/outside/);
  });

  it('copies out only what fits the limits, results.json first, and lists the rest', async () => {
    await sandbox.reset();
    await sandbox.exec(
      [
        'sh',
        '-c',
        'head -c 30000000 /dev/zero > big.bin && echo "{}" > results.json && for i in 1 2 3 4 5; do echo $i > small$i.txt; done && head -c 600000 /dev/zero > mid.bin',
      ],
      { timeoutMs: 30_000 },
    );
    const { files, skipped } = await sandbox.readFiles({ maxFiles: 5, maxFileBytes: 1e6, maxTotalBytes: 500_000 });
    expect(files.map((f) => f.path).sort()).toEqual([
      'results.json',
      'small1.txt',
      'small2.txt',
      'small3.txt',
      'small4.txt',
    ]);
    expect(skipped).toEqual(
      expect.arrayContaining([
        { path: 'big.bin', bytes: 30_000_000, reason: 'file_too_large' },
        { path: 'small5.txt', bytes: 2, reason: 'too_many_files' },
        { path: 'mid.bin', bytes: 600_000, reason: 'total_too_large' },
      ]),
    );
    await sandbox.reset();
  });

  it('stops a disk-filling experiment at the workspace cap', async () => {
    const result = await sandbox.exec(['sh', '-c', 'head -c 200000000 /dev/zero > /workspace/big; echo rc=$?'], {
      timeoutMs: 30_000,
    });
    expect(result.stderr.text).toMatch(/No space left on device/);
    await sandbox.reset();
  });

  it('runs a program in one round trip: cleared workspace, files in, live output, leftovers ended, files out', async () => {
    const limits = { maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 };
    const streamed: string[] = [];
    const program = (code: string) => ({
      files: [{ path: 'experiment.py', content: Buffer.from(code) }],
      command: ['python3', 'experiment.py'],
      exec: {
        timeoutMs: 30_000,
        env: { SEED: '7' }, // The streams' chunks interleave as they come: keep stdout's.
        onOutput: (stream: string, text: string) => (stream === 'stdout' ? streamed.push(text) : 0),
      },
      outputs: limits,
    });
    const first = await sandbox.runProgram(
      program(
        'import os, subprocess, sys\nopen("left.txt", "w").write("x")\nsubprocess.Popen(["setsid", "sleep", "3600"])\n' +
          'print("seed", os.environ["SEED"]); print("oops", file=sys.stderr); sys.exit(3)',
      ),
    );
    expect(first.outputError).toBeNull();
    expect(first.exec).toMatchObject({ exitCode: 3, timedOut: false, outOfMemory: false, sandboxLost: null });
    expect(first.exec.stdout.text).toBe('seed 7\n');
    expect(first.exec.stderr.text).toBe('oops\n');
    expect(streamed.join('')).toContain('seed 7');
    expect(streamed.join('')).not.toContain('autolab');
    expect(first.files.map((f) => f.path).sort()).toEqual(['experiment.py', 'left.txt']);
    expect(await leftovers()).toEqual([]);

    // The next program starts from an empty workspace, even when the last one left a directory it cannot clear.
    await sandbox.exec(['sh', '-c', 'mkdir -p locked/in && touch locked/in/f && chmod 0 locked'], {
      timeoutMs: 10_000,
    });
    const containerBefore = sandbox.containerId;
    const second = await sandbox.runProgram(program('import os\nprint(sorted(os.listdir(".")))'));
    expect(second.exec.stdout.text.trim()).toBe("['experiment.py']");
    expect(second.files.map((f) => f.path)).toEqual(['experiment.py']);
    expect(sandbox.containerId).not.toBe(containerBefore);
  });

  it('leaves no container with the run label after close, and the reaper removes orphans', async () => {
    const orphan = await DockerSandbox.create(
      docker,
      image,
      DEFAULT_LIMITS,
      { deployment: 'sandbox-test', runId: `${runId}x`, attempt: 1, role: 'python', workerId: 'dead-worker' },
      runtime,
    );
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
      keepPooled: async (_id, worker) => worker !== 'dead-worker',
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
