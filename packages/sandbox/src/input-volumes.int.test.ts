import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerClient } from './docker-client.js';
import { reapSandboxes } from './reaper.js';
import { DockerSandboxFactory } from './sandbox-factory.js';
import { LABEL_RUN } from './sandbox-limits.js';

const docker = new DockerClient({ retryMs: 10_000 });
const images = {
  python: process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest',
  latex: process.env.AUTOLAB_LATEX_IMAGE ?? 'autolab-latex:latest',
};
const runId = `run_inputtest${Date.now()}`;
const deployment = `input-test-${Date.now()}`;
let dir: string;

const volumesOfRun = async () =>
  ((await docker.listVolumes({ filters: { label: [`${LABEL_RUN}=${runId}`] } })).Volumes ?? []).map((v) => v.Name);

describe('run inputs in the sandbox (real Docker engine)', () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'autolab-inputs-'));
    await mkdir(join(dir, 'data', 'nested'), { recursive: true });
    await writeFile(join(dir, 'data', 'train.csv'), 'x,y\n1,2\n3,4\n');
    await writeFile(join(dir, 'data', 'nested', 'notes.txt'), 'hello\n');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('every experiment sandbox reads the files under /workspace/input and can neither change nor replace them', async () => {
    const factory = new DockerSandboxFactory(
      docker,
      images,
      { deployment, runId, attempt: 1, workerId: 'input-test' },
      { memoryMb: 256 },
      'runc',
      [{ name: 'data', dir: join(dir, 'data') }],
    );
    try {
      const first = await factory.open('python');
      const second = await factory.open('python');
      for (const sandbox of [first, second]) {
        const read = await sandbox.exec(
          ['cat', '/workspace/input/data/train.csv', '/workspace/input/data/nested/notes.txt'],
          {
            timeoutMs: 20_000,
          },
        );
        expect(read.stdout.text).toBe('x,y\n1,2\n3,4\nhello\n');
      }
      const attempts = await first.exec(
        [
          'sh',
          '-c',
          [
            'echo x >> /workspace/input/data/train.csv && echo appended',
            'touch /workspace/input/data/new.txt && echo created',
            'rm -f /workspace/input/data/train.csv && echo removed',
            'mv /workspace/input /workspace/gone && echo moved',
            'rm -rf /workspace/input && echo deleted',
            'stat -c "%u %a" /workspace/input/data/train.csv',
          ].join('; '),
        ],
        { timeoutMs: 20_000 },
      );
      expect(attempts.stdout.text.trim()).toBe('0 644');
      // The experiment's own files are cleared between experiments; the inputs stay.
      await first.writeFiles([{ path: 'scratch.txt', content: Buffer.from('temp') }]);
      await first.reset();
      const after = await first.exec(['ls', '/workspace', '/workspace/input/data'], { timeoutMs: 20_000 });
      expect(after.stdout.text).not.toContain('scratch.txt');
      expect(after.stdout.text).toContain('train.csv');
      expect(await volumesOfRun()).toHaveLength(1);
      // The latex sandbox never gets them.
      const latex = await factory.open('latex');
      const none = await latex.exec(['ls', '/workspace'], { timeoutMs: 20_000 });
      expect(none.stdout.text).not.toContain('input');
    } finally {
      await factory.closeAll();
    }
    expect(await volumesOfRun()).toEqual([]);
  });

  it("the engine's scripts over the inputs run in the built-in image even when the experiments use another", async () => {
    // The LaTeX image stands in for an operator's image without poppler.
    const factory = new DockerSandboxFactory(
      docker,
      { ...images, experiments: images.latex },
      { deployment, runId, attempt: 3, workerId: 'input-test' },
      { memoryMb: 256 },
      'runc',
      [{ name: 'papers', dir: join(dir, 'data') }],
    );
    try {
      const probe = ['sh', '-c', 'command -v pdftotext >/dev/null && echo poppler; ls /workspace/input/papers'];
      const reader = await (await factory.open('reader')).exec(probe, { timeoutMs: 20_000 });
      expect(reader.stdout.text).toBe('poppler\nnested\ntrain.csv\n');
      const experiment = await (await factory.open('python')).exec(probe, { timeoutMs: 20_000 });
      expect(experiment.stdout.text).toBe('nested\ntrain.csv\n');
    } finally {
      await factory.closeAll();
    }
    expect(await volumesOfRun()).toEqual([]);
  });

  it('the reaper removes the input volumes a dead worker left behind', async () => {
    const factory = new DockerSandboxFactory(
      docker,
      images,
      { deployment, runId, attempt: 2, workerId: 'dead-worker' },
      { memoryMb: 256 },
      'runc',
      [{ name: 'data', dir: join(dir, 'data') }],
    );
    const sandbox = await factory.open('python');
    expect(await volumesOfRun()).toHaveLength(1);
    const removed = await reapSandboxes(docker, deployment, { keep: async () => false, keepPooled: async () => false });
    expect(removed.length).toBe(2);
    expect(await volumesOfRun()).toEqual([]);
    await sandbox.close().catch(() => undefined);
  });
});
