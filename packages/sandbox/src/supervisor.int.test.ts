import type { ProgramRun } from '@autolab/engine';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerSandbox } from './docker-sandbox.js';
import { DEFAULT_LIMITS, type SandboxRuntime } from './sandbox-limits.js';
import { registeredRuntimes } from './sandbox-runtime.js';

const docker = new Docker();
const image = process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest';
const runtimes = await registeredRuntimes(docker);

/** Prints the pids /proc shows besides PID 1 (the supervisor) and itself: none, after a clean experiment. */
const OTHERS = `import os
print(sorted(p for p in os.listdir("/proc") if p.isdigit() and p not in ("1", str(os.getpid()))))`;

/** ptrace(PTRACE_ATTACH, 1), /proc/1/mem and the supervisor's attach stream (/proc/1/fd/1): each must be refused. */
const REACH_PID_1 = `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
print("ptrace", libc.ptrace(16, 1, 0, 0), os.strerror(ctypes.get_errno()))
for path, mode in (("/proc/1/mem", "rb"), ("/proc/1/mem", "r+b"), ("/proc/1/fd/1", "wb"), ("/proc/1/fd/0", "rb")):
    try:
        open(path, mode, buffering=0)
        print("opened", path, mode)
    except OSError as err:
        print("refused", path, mode, err.strerror)
`;

/** Holds every pid until it is killed (see docker-sandbox.int.test.ts). */
const HOLD_EVERY_PID = `
import os, time
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
    failed_since = None
print("holding", flush=True)
time.sleep(3600)
`;

/**
 * The attack surface of the supervisor (PID 1, supervisor.py), which runs every experiment: a program can try to
 * kill it, trace it, forge its frames, cut its own output, leave processes behind, or take every pid. Each gives the
 * program's own outcome, and the next experiment in the same sandbox runs normally.
 */
describe.each(runtimes)('the sandbox supervisor under %s (real Docker engine)', (runtime: SandboxRuntime) => {
  let sandbox: DockerSandbox;
  const limits = { maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 };
  const run = (code: string, timeoutMs = 20_000, extra: Partial<ProgramRun['exec']> = {}) =>
    sandbox.runProgram({
      files: [{ path: 'main.py', content: Buffer.from(code) }],
      command: ['python3', 'main.py'],
      exec: { timeoutMs, ...extra },
      outputs: limits,
    });
  /** The next experiment in the same container: clean workspace, no process left, output and files as usual. */
  const expectNextWorks = async (sameContainer = true) => {
    const before = sandbox.containerId;
    const next = await run(`${OTHERS}\nprint(sorted(os.listdir(".")))\nopen("out.txt", "w").write("ok")`);
    expect(next.exec).toMatchObject({ exitCode: 0, timedOut: false, sandboxLost: null });
    expect(next.exec.stdout.text).toBe("[]\n['main.py']\n");
    expect(next.files.map((f) => f.path).sort()).toEqual(['main.py', 'out.txt']);
    expect(next.outputError).toBeNull();
    if (sameContainer) expect(sandbox.containerId).toBe(before);
  };

  beforeAll(async () => {
    sandbox = await DockerSandbox.create(
      docker,
      image,
      { ...DEFAULT_LIMITS, memoryMb: 256, pidsLimit: 64, workspaceMb: 64 },
      {
        deployment: 'sandbox-test',
        runId: `run_supervisortest${runtime}${Date.now()}`,
        attempt: 1,
        role: 'python',
        workerId: 'test-worker',
      },
      runtime,
    );
  });

  afterAll(async () => {
    await sandbox?.close();
  });

  it('cannot be killed by the program', async () => {
    // Under runc the kernel drops every signal a container's processes send to its PID 1 unless PID 1 handles it;
    // gVisor does not, so the supervisor ignores every signal it can.
    const signals = ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGUSR2', 'SIGPIPE', 'SIGALRM'];
    if (runtime === 'runc') signals.push('SIGKILL', 'SIGSTOP');
    const outcome = await run(
      `import os, signal, time\nfor s in ${JSON.stringify(signals)}:\n    os.kill(1, getattr(signal, s))\n` +
        'time.sleep(0.2)\nprint("still here")',
    );
    expect(outcome.exec).toMatchObject({ exitCode: 0, sandboxLost: null });
    expect(outcome.exec.stdout.text).toBe('still here\n');
    await expectNextWorks();
  });

  it.runIf(runtime === 'runsc')(
    'under gVisor, a program that SIGKILLs PID 1 ends only its own sandbox; the next experiment gets a fresh one',
    async () => {
      const outcome = await run('import os, signal, time\nos.kill(1, signal.SIGKILL)\ntime.sleep(5)');
      expect(outcome.exec.sandboxLost).toMatch(/stopped/);
      await expectNextWorks(false);
    },
  );

  it.runIf(runtime === 'runsc')(
    'under gVisor, a program that SIGSTOPs PID 1 times out, and the next experiment gets a fresh container',
    async () => {
      const outcome = await run('import os, signal, time\nos.kill(1, signal.SIGSTOP)\ntime.sleep(600)', 2000);
      expect(outcome.exec).toMatchObject({ timedOut: true, sandboxLost: 'the program could not be stopped' });
      await expectNextWorks(false);
    },
  );

  it('cannot be traced or have its memory opened by the program', async () => {
    const outcome = await run(REACH_PID_1);
    expect(outcome.exec.exitCode).toBe(0);
    const lines = outcome.exec.stdout.text.trim().split('\n');
    expect(lines[0]).toMatch(/^ptrace -1 /);
    expect(lines.slice(1, 3)).toEqual([
      expect.stringMatching(/^refused \/proc\/1\/mem rb /),
      expect.stringMatching(/^refused \/proc\/1\/mem r\+b /),
    ]);
    if (runtime === 'runc') {
      // Nor its attach stream: what the program writes reaches the worker only through the supervisor's pipes.
      expect(lines.slice(3)).toEqual([
        expect.stringMatching(/^refused \/proc\/1\/fd\/1 wb /),
        expect.stringMatching(/^refused \/proc\/1\/fd\/0 rb /),
      ]);
    }
    await expectNextWorks();
  });

  // gVisor lets a process of the same uid open a non-dumpable process's /proc/<pid>/fd (runc's kernel does not): a
  // program can write into the supervisor's stream there. The worker validates every frame; garbage breaks the
  // protocol, and the container is replaced. It only ever misleads its own run (sandboxes are never shared).
  it.runIf(runtime === 'runsc')(
    'under gVisor, garbage written into the supervisor stream costs only a fresh container',
    async () => {
      const outcome = await run(
        'import struct\nwith open("/proc/1/fd/1", "wb", buffering=0) as out:\n' +
          '    out.write(b"Q" + struct.pack(">I", 3) + b"abc")\nimport time\ntime.sleep(1)',
      );
      expect(outcome.exec.sandboxLost ?? outcome.outputError).toMatch(/protocol/);
      await expectNextWorks(false);
    },
  );

  it("passes forged frames on the program's stdout through as plain output", async () => {
    // What the supervisor's own frames look like: an exit with code 0, a listing, an archive end.
    const forged =
      'import struct, sys\n' +
      'def frame(kind, payload): return kind + struct.pack(">I", len(payload)) + payload\n' +
      'fake = frame(b"x", b\'{"exitCode": 0}\') + frame(b"L", b"f 3 passwd\\0") + frame(b"z", b"")\n' +
      'sys.stdout.buffer.write(fake); sys.stdout.flush(); sys.stderr.buffer.write(fake); sys.exit(5)';
    const outcome = await run(forged);
    expect(outcome.exec).toMatchObject({ exitCode: 5, sandboxLost: null });
    expect(outcome.exec.stdout.totalBytes).toBeGreaterThan(20);
    expect(outcome.exec.stdout.text).toContain('{"exitCode": 0}');
    expect(outcome.exec.stderr.text).toContain('f 3 passwd');
    expect(outcome.files.map((f) => f.path)).toEqual(['main.py']);
    await expectNextWorks();
  });

  it('waits for the exit of a program that closes its stdout and stderr early', async () => {
    const outcome = await run(
      'import os, time\nprint("before", flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(1)\n' +
        'open("late.txt", "w").write("x")\nos._exit(4)',
    );
    expect(outcome.exec).toMatchObject({ exitCode: 4, timedOut: false, sandboxLost: null });
    expect(outcome.exec.stdout.text).toBe('before\n');
    expect(outcome.exec.durationMs).toBeGreaterThanOrEqual(1000);
    expect(outcome.files.map((f) => f.path).sort()).toEqual(['late.txt', 'main.py']);
    await expectNextWorks();
  });

  it('ends a daemon the program leaves, before it lists the files', async () => {
    const outcome = await run(
      'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n' +
        '        os.close(1); os.close(2)\n        while True:\n            open("daemon.txt", "a").write("x"); time.sleep(0.01)\n' +
        '    os._exit(0)\ntime.sleep(0.3)\nprint("parent done")',
    );
    expect(outcome.exec).toMatchObject({ exitCode: 0, timedOut: false, sandboxLost: null });
    expect(outcome.exec.durationMs).toBeLessThan(5000);
    expect(outcome.files.map((f) => f.path).sort()).toEqual(['daemon.txt', 'main.py']);
    await expectNextWorks();
  });

  it('ends a program that holds every pid at its time limit', async () => {
    let holding = false;
    const outcome = await run(HOLD_EVERY_PID, 8000, {
      onOutput: (_stream, text) => {
        if (text.includes('holding')) holding = true;
      },
    });
    if (runtime === 'runc') {
      expect(holding).toBe(true);
      expect(outcome.exec).toMatchObject({ timedOut: true, exitCode: 137, sandboxLost: null });
      expect(outcome.outputError).toBeNull();
      await expectNextWorks();
    } else {
      // gVisor's kernel cannot take a host pid limit: the whole sandbox may end; the next experiment gets a fresh one.
      expect(outcome.exec.timedOut || outcome.exec.sandboxLost !== null).toBe(true);
      await expectNextWorks(outcome.exec.sandboxLost === null);
    }
  });

  it('is asked to kill at the time limit and reports the program killed', async () => {
    const started = Date.now();
    const outcome = await run(
      'import subprocess, time\nsubprocess.Popen(["setsid", "sleep", "600"])\ntime.sleep(600)',
      1500,
    );
    expect(outcome.exec).toMatchObject({ timedOut: true, exitCode: 137, sandboxLost: null });
    expect(outcome.exec.durationMs).toBeGreaterThanOrEqual(1500);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expectNextWorks();
  });

  it('gives a fresh container when the supervisor dies', async () => {
    const before = sandbox.containerId;
    // Only the container's own end can stop PID 1 (here: Docker's kill from outside).
    const running = run('import time\nprint("up", flush=True)\ntime.sleep(600)', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    await docker.getContainer(before!).kill();
    const outcome = await running;
    expect(outcome.exec.sandboxLost).toMatch(/stopped/);
    expect(outcome.outputError).toMatch(/copying files out of the sandbox failed/);
    await expectNextWorks(false);
    expect(sandbox.containerId).not.toBe(before);
  });
});
