import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Docker from 'dockerode';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/**
 * A second Docker engine on this machine, standing in for another host: its own dockerd with its own socket, data
 * root, exec root, pid file and (because the main engine's containerd is its own managed one, not the system socket)
 * its own containerd in its own namespace. `--bridge none --iptables=false --ip-masq=false --ip-forward=false`: it
 * creates no bridge and touches neither iptables nor sysctls, so the main engine's networking is left alone (checked
 * at start: the host's network interfaces are the same before and after). Sandboxes need no network anyway.
 *
 * The data root is kept between test runs as an image cache (`.data/test-engine/data`, or AUTOLAB_TEST_ENGINE_DIR):
 * loading the sandbox images with `docker save | docker load` takes about two minutes the first time, nothing after.
 * Its pid file there doubles as a lock: a second test run on the same cache is refused with a clear message.
 * Everything else (socket, exec root, containers, volumes) goes with `close()`.
 */
export interface DockerEngine {
  /** `unix://…`, for a worker's DOCKER_HOST. */
  host: string;
  docker: Docker;
  /** How long loading the images into it took (ms); 0 when the cache had them all. */
  imageLoadMs: number;
  running(): boolean;
  /** Starts dockerd again on the same data root (containers it had are still there, stopped). */
  start(): Promise<void>;
  /** Stops dockerd as an operator would (SIGTERM); it stops its containers within a second first. */
  stop(): Promise<void>;
  /** Removes every container and volume of this engine (starting it again for that if it was stopped), stops it. */
  close(): Promise<void>;
}

/** The images a worker on the second engine needs: the sandbox images of this machine's services. */
export const SANDBOX_IMAGES = [
  process.env.AUTOLAB_PYTHON_IMAGE ?? 'autolab-python:latest',
  process.env.AUTOLAB_LATEX_IMAGE ?? 'autolab-latex:latest',
];

const START_TIMEOUT_MS = 60_000;
/** How long a test waits for `tests/prepare-test-engine.ts`, started by `npm test`, to fill the image cache. */
const PREPARE_WAIT_MS = 10 * 60_000;
const STOP_TIMEOUT_MS = 30_000;

export function testEngineDir(): string {
  return process.env.AUTOLAB_TEST_ENGINE_DIR ?? join(ROOT, '.data', 'test-engine');
}

/** The pid of `tests/prepare-test-engine.ts` while it fills the cache (the file is removed when it is done). */
export const preparationPidFile = (cacheDir: string) => join(cacheDir, 'preparing.pid');

/** Waits while the background preparation (started by `npm test` before the type check) is still loading images. */
async function waitForPreparation(cacheDir: string): Promise<void> {
  const end = Date.now() + PREPARE_WAIT_MS;
  for (let pid = readPid(preparationPidFile(cacheDir)); pid > 0 && isAlive(pid); ) {
    if (Date.now() > end) throw new Error(`the test engine's images are still being loaded by pid ${pid}`);
    await sleep(1000);
    pid = readPid(preparationPidFile(cacheDir));
  }
}

export async function startDockerEngine(options: {
  images: string[];
  /** false for the preparation itself. */
  waitForPreparation?: boolean;
}): Promise<DockerEngine> {
  if (process.getuid?.() !== 0) {
    throw new Error(
      'this test starts a second dockerd (a second "host"), which only root can do: run it as root, as CI does',
    );
  }
  await promisify(execFile)('dockerd', ['--version']).catch((err: Error) => {
    throw new Error(
      `this test starts a second dockerd, but dockerd cannot be run (${err.message}): apt-get install docker.io`,
    );
  });
  const cacheDir = testEngineDir();
  const dataRoot = join(cacheDir, 'data');
  const pidFile = join(cacheDir, 'dockerd.pid');
  const logFile = join(cacheDir, 'dockerd.log');
  await mkdir(dataRoot, { recursive: true });
  if (options.waitForPreparation !== false) await waitForPreparation(cacheDir);
  const holder = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
  if (holder > 0 && isAlive(holder)) {
    throw new Error(
      `another dockerd (pid ${holder}) is using the test engine's data root ${dataRoot}, perhaps left by a test run ` +
        `that was killed: stop it (kill ${holder}) or set AUTOLAB_TEST_ENGINE_DIR to another directory`,
    );
  }
  // Short paths: containerd's sockets live under the exec root, and unix socket paths are limited to 107 bytes.
  const runDir = await mkdtemp(join(tmpdir(), 'autolab-engine-'));
  const socket = join(runDir, 'docker.sock');
  const configFile = join(runDir, 'daemon.json');
  // Its own (empty) configuration: /etc/docker/daemon.json belongs to the main engine.
  await writeFile(configFile, '{}\n');
  const args = [
    `--config-file=${configFile}`,
    `--host=unix://${socket}`,
    `--data-root=${dataRoot}`,
    `--exec-root=${join(runDir, 'exec')}`,
    `--pidfile=${pidFile}`,
    '--containerd-namespace=autolab-test-engine',
    '--containerd-plugins-namespace=autolab-test-engine-plugins',
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false',
    '--userland-proxy=false',
    // Stopping it stops its containers first; sandboxes ignore SIGTERM, so it would wait 15 s by default.
    '--shutdown-timeout=1',
  ];
  const docker = new Docker({ socketPath: socket });
  let child: ChildProcess | null = null;
  const running = () => child !== null && child.exitCode === null && child.signalCode === null;

  const start = async () => {
    if (running()) return;
    const interfacesBefore = interfaceNames();
    const log = openSync(logFile, 'a');
    // Not detached: a Ctrl-C of the test run reaches it too (dockerd shuts down cleanly on SIGINT).
    const started = spawn('dockerd', args, { stdio: ['ignore', log, log] });
    closeSync(log);
    child = started;
    const end = Date.now() + START_TIMEOUT_MS;
    while (
      !(await docker.ping().then(
        () => true,
        () => false,
      ))
    ) {
      if (!running() || Date.now() > end) {
        started.kill('SIGKILL');
        throw new Error(
          `the second dockerd did not come up (exit ${started.exitCode ?? started.signalCode}): ${tail(logFile)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const interfacesAfter = interfaceNames();
    if (interfacesAfter !== interfacesBefore) {
      await stop();
      throw new Error(
        `the second dockerd changed the host's network interfaces: ${interfacesBefore} → ${interfacesAfter}`,
      );
    }
  };

  const stop = async () => {
    const current = child;
    if (!current || !running()) return;
    const exited = once(current, 'exit');
    current.kill('SIGTERM');
    const stopped = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
    if (stopped) return;
    // It did not stop in time: kill it and the containerd it started (which would outlive it).
    const containerd = readPid(join(runDir, 'exec', 'containerd', 'containerd.pid'));
    current.kill('SIGKILL');
    await exited;
    if (containerd > 0 && isAlive(containerd)) process.kill(containerd, 'SIGKILL');
  };

  await start();
  let imageLoadMs = 0;
  try {
    imageLoadMs = await loadImages(socket, options.images, docker);
  } catch (err) {
    await stop();
    await rm(runDir, { recursive: true, force: true });
    throw err;
  }

  return {
    host: `unix://${socket}`,
    docker,
    imageLoadMs,
    running,
    start,
    stop,
    async close() {
      try {
        if (!running()) await start();
        for (const info of await docker.listContainers({ all: true })) {
          await docker.getContainer(info.Id).remove({ force: true, v: true });
        }
        for (const volume of (await docker.listVolumes()).Volumes ?? []) {
          await docker.getVolume(volume.Name).remove();
        }
      } finally {
        await stop();
        await rm(runDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Copies the images this engine lacks (or has in another version) from the main engine; returns how long it took.
 * The main engine is the one the `docker` CLI reaches (DOCKER_HOST or the local socket).
 */
async function loadImages(socket: string, images: string[], engine: Docker): Promise<number> {
  const main = new Docker();
  const imageId = (docker: Docker, tag: string) =>
    docker
      .getImage(tag)
      .inspect()
      .then(
        (info) => info.Id,
        () => null,
      );
  const missing: string[] = [];
  for (const tag of images) {
    const wanted = await imageId(main, tag);
    if (!wanted) throw new Error(`the image ${tag} is not on the main Docker engine (run scripts/ensure-services.sh)`);
    if ((await imageId(engine, tag)) !== wanted) missing.push(tag);
  }
  if (missing.length === 0) return 0;
  const started = Date.now();
  // One `docker save` for all of them, so layers they share travel once.
  const save = spawn('docker', ['save', ...missing], { stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn('docker', ['-H', `unix://${socket}`, 'load', '--quiet'], { stdio: ['pipe', 'ignore', 'pipe'] });
  save.stdout!.pipe(load.stdin!);
  let errors = '';
  save.stderr!.on('data', (chunk: Buffer) => (errors += chunk));
  load.stderr!.on('data', (chunk: Buffer) => (errors += chunk));
  const [[saved], [loaded]] = await Promise.all([once(save, 'exit'), once(load, 'exit')]);
  if (saved !== 0 || loaded !== 0) throw new Error(`docker save | docker load failed (${saved}, ${loaded}): ${errors}`);
  return Date.now() - started;
}

function interfaceNames(): string {
  return Object.keys(networkInterfaces()).sort().join(',');
}

function readPid(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-15).join('\n') : '(no log)';
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
