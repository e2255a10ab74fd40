import { randomBytes } from 'node:crypto';
import { type Sandbox, SandboxUnavailableError } from '@autolab/engine';
import { DockerClient, DockerSandboxFactory, isDockerUnavailable, listRunContainers } from '@autolab/sandbox';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DockerProxy, startDockerProxy } from './docker-proxy.js';

/**
 * The sandbox adapter against a Docker engine that goes away and comes back (a proxy socket the test closes and
 * opens): requests wait for it, a step that an outage cut short is done again from the same workspace (also when
 * the container died meanwhile, as with a dockerd restart), and an outage longer than the retry window is
 * `SandboxUnavailableError`.
 */
const engine = new Docker(); // the real one, past the proxy
const runId = `run_outage${randomBytes(4).toString('hex')}`;
let proxy: DockerProxy;
let sandbox: Sandbox;
let factory: DockerSandboxFactory;

const outageSoon = (afterMs: number, forMs: number) =>
  new Promise<void>((resolve) => setTimeout(() => void proxy.outage(forMs).then(resolve), afterMs));

async function containerOf(): Promise<string> {
  const ids = await listRunContainers(engine, runId);
  expect(ids).toHaveLength(1);
  return ids[0]!;
}

describe('sandboxes through a Docker outage', () => {
  beforeAll(async () => {
    proxy = await startDockerProxy();
    const docker = new DockerClient({
      retryMs: 10_000,
      connection: { socketPath: proxy.host.slice('unix://'.length) },
    });
    factory = new DockerSandboxFactory(
      docker,
      { python: process.env.AUTOLAB_PYTHON_IMAGE!, latex: process.env.AUTOLAB_LATEX_IMAGE! },
      { deployment: 'sandbox-outage-test', runId, attempt: 1, workerId: 'outage-test' },
      { memoryMb: 512 },
    );
    sandbox = await factory.open('python');
  });
  afterAll(async () => {
    await proxy?.open();
    await factory?.closeAll();
    await proxy?.stop();
  });

  it('classifies what counts as Docker being unreachable', () => {
    expect(isDockerUnavailable(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe(true);
    expect(isDockerUnavailable(Object.assign(new Error('connect ENOENT /x.sock'), { code: 'ENOENT' }))).toBe(true);
    expect(isDockerUnavailable(new Error('socket hang up'))).toBe(true);
    expect(isDockerUnavailable(Object.assign(new Error('(HTTP code 503) unavailable'), { statusCode: 503 }))).toBe(
      true,
    );
    expect(
      isDockerUnavailable(Object.assign(new Error('(HTTP code 404) no such container'), { statusCode: 404 })),
    ).toBe(false);
    const oci = 'OCI runtime create failed: runc create failed: unable to start container process';
    expect(
      isDockerUnavailable(Object.assign(new Error(`(HTTP code 500) server error - ${oci}`), { statusCode: 500 })),
    ).toBe(false);
  });

  it('waits for Docker when it is away before a step starts', async () => {
    await sandbox.reset();
    await proxy.close();
    setTimeout(() => void proxy.open(), 1500);
    const started = Date.now();
    await sandbox.writeFiles([{ path: 'input.txt', content: Buffer.from('hello\n') }]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    const { files } = await sandbox.readFiles({ maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 });
    expect(files.map((f) => [f.path, f.content.toString()])).toEqual([['input.txt', 'hello\n']]);
  });

  it('runs a command that an outage cut again, from the same workspace', async () => {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'input.txt', content: Buffer.from('from the workspace\n') }]);
    const notices: string[] = [];
    const cut = outageSoon(1000, 1500);
    const result = await sandbox.exec(
      [
        'python3',
        '-u',
        '-c',
        'import time\nprint(open("input.txt").read().strip())\nfor i in range(6):\n print(i); time.sleep(0.5)',
      ],
      { timeoutMs: 30_000, onOutput: (_stream, text) => notices.push(text) },
    );
    await cut;
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.stdout.text).toBe('from the workspace\n0\n1\n2\n3\n4\n5\n');
    expect(notices.join('')).toContain('Docker was unreachable while this ran');
  });

  it('runs an experiment that an outage cut again, from its own files, and copies out what the rerun left', async () => {
    const notices: string[] = [];
    const cut = outageSoon(1000, 1500);
    const outcome = await sandbox.runProgram({
      files: [
        {
          path: 'experiment.py',
          content: Buffer.from(
            'import time\nfor i in range(6):\n print(i, flush=True); time.sleep(0.5)\nopen("out.txt", "w").write("done")\n',
          ),
        },
      ],
      command: ['python3', 'experiment.py'],
      exec: { timeoutMs: 30_000, onOutput: (_stream, text) => notices.push(text) },
      outputs: { maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 },
    });
    await cut;
    expect(outcome.outputError).toBeNull();
    expect(outcome.exec).toMatchObject({ exitCode: 0, timedOut: false });
    expect(outcome.exec.stdout.text).toBe('0\n1\n2\n3\n4\n5\n');
    expect(outcome.files.map((f) => f.path).sort()).toEqual(['experiment.py', 'out.txt']);
    expect(notices.join('')).toContain('Docker was unreachable while this ran');
  });

  it('starts a fresh container when the old one died during the outage, rebuilding its workspace', async () => {
    await sandbox.reset();
    await sandbox.writeFiles([{ path: 'input.txt', content: Buffer.from('rebuilt\n') }]);
    const before = await containerOf();
    const running = sandbox.exec(['sh', '-c', 'sleep 2; cat input.txt; echo out > out.txt'], { timeoutMs: 30_000 });
    await new Promise((r) => setTimeout(r, 500));
    await proxy.close();
    // What a dockerd restart does to containers (without live-restore): they stop.
    await engine.getContainer(before).kill();
    setTimeout(() => void proxy.open(), 1000);
    const result = await running;
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.stdout.text).toBe('rebuilt\n');
    const after = await containerOf();
    expect(after).not.toBe(before);
    const { files } = await sandbox.readFiles({ maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 });
    expect(files.map((f) => f.path).sort()).toEqual(['input.txt', 'out.txt']);
  });

  it('gives up with SandboxUnavailableError when Docker stays away longer than the retry window', async () => {
    const docker = new DockerClient({ retryMs: 2000, connection: { socketPath: proxy.host.slice('unix://'.length) } });
    await proxy.close();
    try {
      const started = Date.now();
      const error = await docker
        .getContainer(await containerOf())
        .inspect()
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(SandboxUnavailableError);
      expect((error as Error).message).toMatch(/Docker has been unreachable for 2 s \(connect ENOENT/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      // Once the window has run out, further requests fail at once.
      const again = Date.now();
      await expect(docker.listContainers()).rejects.toBeInstanceOf(SandboxUnavailableError);
      expect(Date.now() - again).toBeLessThan(500);
    } finally {
      await proxy.open();
    }
    expect(await docker.listContainers({ filters: { label: [`autolab.run=${runId}`] } })).toHaveLength(1);
  });
});
