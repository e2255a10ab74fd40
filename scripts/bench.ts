/**
 * Sandbox latency benchmark: what the sandbox package costs on top of plain Docker, measured on this machine in one
 * run. Started by `npm run bench` (scripts/bench.sh); docs/performance.md explains the method and the figures.
 *
 * (a) create -> first command: `DockerSandbox.create` + `exec(['true'])`, against
 *     `docker run --rm --network none IMAGE true` through the docker CLI. A breakdown replays the sandbox's Docker
 *     API calls (create, start, inspect, exec, remove) with bare dockerode, timed call by call, for the sandbox's
 *     container spec and for minimal specs, which shows what the stricter configuration costs.
 * (b) one exec on a running container: `sandbox.exec(['true'])` against a bare dockerode exec on a container with
 *     the same spec.
 *
 * (c) where the engine has gVisor registered: the sandbox under runsc against runc (create -> first command, one
 *     exec, tmpfs write throughput), as ratios runsc / runc.
 *
 * (d) issue 10's ratios: `firstExperimentPerWarmExec` (a run's first experiment, with the warm pool and without, against
 *     one warm exec, with 1/5/10/20 at once: scripts/bench-first-experiment.ts), `nodeSpanPerExec` (the `long`
 *     scenario's node span against its program's exec time: scripts/node-span.ts), the worker's RSS with 1, 5, 10 and
 *     20 live runs (scripts/bench-worker-rss.ts), and the API's requests per second against a hello-world
 *     (scripts/bench-api.ts).
 *
 * Parts: `npm run bench -- [sandbox] [first] [span] [rss] [api] [redis]` runs only those (default: all), to keep iteration
 * fast; the last line, `BENCH_JSON {...}`, holds what ran.
 *
 * Arms are interleaved (the order rotates every round) so drift in the machine's load affects all of them alike.
 * Every container the bench creates carries a label and is removed at the end, on failure and on Ctrl-C too.
 */

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import {
  containerSpec,
  DEFAULT_LIMITS,
  DockerSandbox,
  LABEL_MANAGED,
  LABEL_RUN,
  LABEL_WORKER,
  registeredRuntimes,
  type SandboxRuntime,
} from '@autolab/sandbox';
import Docker from 'dockerode';
import { startStack } from '../tests/stack.js';
import { benchApi } from './bench-api.js';
import { benchFirstExperiment } from './bench-first-experiment.js';
import { benchRedis } from './bench-redis.js';
import { benchWorkerRss } from './bench-worker-rss.js';
import { measureNodeSpan } from './node-span.js';

const PARTS = ['sandbox', 'first', 'span', 'rss', 'api', 'redis'] as const;
type Part = (typeof PARTS)[number];
const asked = process.argv.slice(2);
for (const part of asked) {
  if (!(PARTS as readonly string[]).includes(part))
    throw new Error(`unknown bench part ${part}; parts: ${PARTS.join(', ')}`);
}
const parts = new Set<Part>(asked.length > 0 ? (asked as Part[]) : PARTS);

const IMAGE = process.env.AUTOLAB_PYTHON_IMAGE || 'autolab-python:latest';
const ITERATIONS = positiveInt('BENCH_ITERATIONS', 15);
const EXEC_ITERATIONS = positiveInt('BENCH_EXEC_ITERATIONS', 50);
const WARMUP_ROUNDS = 2;
const EXEC_WARMUP_ROUNDS = 5;
/** Put on the containers this bench creates outside the sandbox package, so the final sweep finds them. */
const LABEL_BENCH = 'autolab.bench';

const benchId = `bench${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const runId = `run_${benchId}`;
const docker = new Docker();

type Ms = number;
interface Stats {
  n: number;
  median: Ms;
  p95: Ms;
  min: Ms;
  max: Ms;
  mean: Ms;
}

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer, got ${raw}`);
  return value;
}

const now = () => process.hrtime.bigint();
const msSince = (from: bigint): Ms => Number(now() - from) / 1e6;

function stats(samples: Ms[]): Stats {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (i: number) => sorted[Math.min(sorted.length - 1, Math.max(0, i))]!;
  const mid = sorted.length / 2;
  const median = sorted.length % 2 === 1 ? at(Math.floor(mid)) : (at(mid - 1) + at(mid)) / 2;
  // Nearest-rank p95: with 15 samples it is the largest, with 50 the 48th.
  const p95 = at(Math.ceil(0.95 * sorted.length) - 1);
  const mean = sorted.reduce((sum, x) => sum + x, 0) / sorted.length;
  return { n: sorted.length, median, p95, min: at(0), max: at(sorted.length - 1), mean };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
const roundStats = (s: Stats): Stats => ({
  n: s.n,
  median: round2(s.median),
  p95: round2(s.p95),
  min: round2(s.min),
  max: round2(s.max),
  mean: round2(s.mean),
});
const ratio = (a: Stats, b: Stats) => ({ median: round2(a.median / b.median), p95: round2(a.p95 / b.p95) });

/** Runs `rounds` rounds of all arms; the arm that goes first rotates so no arm always runs after the same one. */
async function interleave(rounds: number, arms: Array<() => Promise<void>>): Promise<void> {
  for (let round = 0; round < rounds; round++) {
    for (let k = 0; k < arms.length; k++) await arms[(round + k) % arms.length]!();
  }
}

// ------------------------------------------------------------------ (a) create -> first command

const identity = { deployment: 'bench', runId, attempt: 1, role: 'python', workerId: benchId };

async function sandboxFirstCommand(runtime: SandboxRuntime = 'runc'): Promise<{ firstCommand: Ms; close: Ms }> {
  const started = now();
  let sandbox: DockerSandbox | undefined;
  try {
    sandbox = await DockerSandbox.create(docker, IMAGE, DEFAULT_LIMITS, identity, runtime);
    const result = await sandbox.exec(['true'], { timeoutMs: 10_000 });
    const firstCommand = msSince(started);
    if (result.exitCode !== 0) throw new Error(`sandbox exec of true exited with ${result.exitCode}`);
    const closeStarted = now();
    const closing = sandbox;
    sandbox = undefined;
    await closing.close();
    return { firstCommand, close: msSince(closeStarted) };
  } finally {
    await sandbox?.close();
  }
}

function dockerRun(): Promise<Ms> {
  const args = ['run', '--rm', '--network', 'none', '--label', `${LABEL_BENCH}=${benchId}`, IMAGE, 'true'];
  return new Promise((resolve, reject) => {
    const started = now();
    const child = spawn('docker', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot run the docker CLI: ${err.message}`));
    });
    child.on('exit', (code, signal) => {
      const elapsed = msSince(started);
      clearTimeout(timer);
      if (code === 0) resolve(elapsed);
      else reject(new Error(`docker ${args.join(' ')} ended with ${code ?? signal}: ${stderr.trim().slice(-500)}`));
    });
  });
}

const PHASES = ['create', 'start', 'inspect', 'exec', 'remove'] as const;
type Phase = (typeof PHASES)[number];

/**
 * The least container that can take an exec: what `docker run --network none IMAGE sleep infinity` asks for.
 * `networkDisabled` adds the sandbox's `NetworkDisabled: true`, which skips the engine's network setup altogether.
 */
function minimalSpec(networkDisabled: boolean): Docker.ContainerCreateOptions {
  return {
    Image: IMAGE,
    Cmd: ['sleep', 'infinity'],
    Labels: { [LABEL_BENCH]: benchId },
    ...(networkDisabled ? { NetworkDisabled: true } : {}),
    HostConfig: { NetworkMode: 'none' },
  };
}

function sandboxSpec(): Docker.ContainerCreateOptions {
  const spec = containerSpec(IMAGE, DEFAULT_LIMITS, identity);
  spec.name = `autolab-${runId}-replay-${randomBytes(3).toString('hex')}`;
  spec.Labels = { ...spec.Labels, [LABEL_BENCH]: benchId };
  return spec;
}

/** Container specs whose start-up is replayed, from the sandbox's own to the least one. */
const REPLAYS = {
  'sandbox spec': sandboxSpec,
  'minimal + NetworkDisabled': () => minimalSpec(true),
  'minimal (network none)': () => minimalSpec(false),
} as const;
type ReplayName = keyof typeof REPLAYS;
const REPLAY_NAMES = Object.keys(REPLAYS) as ReplayName[];

/** The sandbox's sequence of Docker API calls, replayed with bare dockerode and timed call by call. */
async function replayPhases(spec: Docker.ContainerCreateOptions): Promise<Record<Phase, Ms>> {
  const times = {} as Record<Phase, Ms>;
  let t = now();
  const container = await docker.createContainer(spec);
  try {
    times.create = msSince(t);
    t = now();
    await container.start();
    times.start = msSince(t);
    t = now();
    await container.inspect();
    times.inspect = msSince(t);
    t = now();
    const exitCode = await bareExec(container);
    times.exec = msSince(t);
    if (exitCode !== 0) throw new Error(`bare exec of true exited with ${exitCode}`);
  } finally {
    t = now();
    await container.remove({ force: true });
    times.remove = msSince(t);
  }
  return times;
}

// ------------------------------------------------------------------ (b) one exec

/** The least a caller of the Docker API must do to run a command and learn its exit code. */
async function bareExec(container: Docker.Container): Promise<number | null> {
  const exec = await container.exec({ Cmd: ['true'], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    stream.resume();
  });
  const info = await exec.inspect();
  return info.ExitCode;
}

// ------------------------------------------------------------------ (c) gVisor against runc

/** Writes 64 MB into /workspace (tmpfs) with dd and returns MB/s: file I/O is where gVisor costs most. */
async function tmpfsWriteMbPerSecond(sandbox: DockerSandbox): Promise<number> {
  const t = now();
  const result = await sandbox.exec(['dd', 'if=/dev/zero', 'of=/workspace/bench.bin', 'bs=1M', 'count=64'], {
    timeoutMs: 120_000,
  });
  const seconds = msSince(t) / 1000;
  if (result.exitCode !== 0) throw new Error(`dd exited with ${result.exitCode}: ${result.stderr.text.slice(-300)}`);
  await sandbox.reset();
  return 64 / seconds;
}

/**
 * The same sandbox under runc and under runsc, interleaved: create -> first command, one exec, and tmpfs writes.
 * Null (and said so) when the engine has no runsc registered.
 */
async function benchGvisor() {
  if (!(await registeredRuntimes(docker)).includes('runsc')) {
    console.log('(c) gVisor: not measured, runsc is not registered with this Docker engine (docs/security.md)\n');
    return null;
  }
  const first: Record<SandboxRuntime, Ms[]> = { runc: [], runsc: [] };
  const exec: Record<SandboxRuntime, Ms[]> = { runc: [], runsc: [] };
  const write: Record<SandboxRuntime, Ms[]> = { runc: [], runsc: [] };
  let recording = false;
  process.stdout.write('(c) gVisor (runsc) against runc ... ');
  const createArms = (['runc', 'runsc'] as const).map((runtime) => async () => {
    const r = await sandboxFirstCommand(runtime);
    if (recording) first[runtime].push(r.firstCommand);
  });
  await interleave(WARMUP_ROUNDS, createArms);
  recording = true;
  await interleave(ITERATIONS, createArms);
  const sandboxes = {
    runc: await DockerSandbox.create(docker, IMAGE, DEFAULT_LIMITS, { ...identity, role: 'gvisor-bench' }, 'runc'),
    runsc: await DockerSandbox.create(docker, IMAGE, DEFAULT_LIMITS, { ...identity, role: 'gvisor-bench' }, 'runsc'),
  };
  try {
    const execArms = (['runc', 'runsc'] as const).map((runtime) => async () => {
      const t = now();
      const result = await sandboxes[runtime].exec(['true'], { timeoutMs: 10_000 });
      const elapsed = msSince(t);
      if (result.exitCode !== 0) throw new Error(`${runtime} exec of true exited with ${result.exitCode}`);
      if (recording) exec[runtime].push(elapsed);
    });
    recording = false;
    await interleave(EXEC_WARMUP_ROUNDS, execArms);
    recording = true;
    await interleave(EXEC_ITERATIONS, execArms);
    for (let round = 0; round < 3; round++) {
      for (const runtime of ['runc', 'runsc'] as const)
        write[runtime].push(await tmpfsWriteMbPerSecond(sandboxes[runtime]));
    }
  } finally {
    await Promise.all(Object.values(sandboxes).map((s) => s.close()));
  }
  console.log('done\n');
  const f = { runc: stats(first.runc), runsc: stats(first.runsc) };
  const e = { runc: stats(exec.runc), runsc: stats(exec.runsc) };
  const w = { runc: stats(write.runc), runsc: stats(write.runsc) };
  console.log(
    table('(c) the sandbox under runc and under gVisor (runsc)', [
      ['runc: create + exec(true)', f.runc],
      ['runsc: create + exec(true)', f.runsc],
      ['runc: one exec of true', e.runc],
      ['runsc: one exec of true', e.runsc],
    ]),
  );
  const firstRatio = ratio(f.runsc, f.runc);
  const execRatio = ratio(e.runsc, e.runc);
  console.log(`ratio runsc / runc, create -> first command: median ${firstRatio.median}x, p95 ${firstRatio.p95}x`);
  console.log(`ratio runsc / runc, one exec: median ${execRatio.median}x, p95 ${execRatio.p95}x`);
  console.log(
    `tmpfs write (64 MB with dd, median of 3): runc ${w.runc.median.toFixed(0)} MB/s, runsc ${w.runsc.median.toFixed(0)} MB/s\n`,
  );
  return {
    createFirstCommandMs: { runc: roundStats(f.runc), runsc: roundStats(f.runsc), ratio: firstRatio },
    execMs: { runc: roundStats(e.runc), runsc: roundStats(e.runsc), ratio: execRatio },
    tmpfsWriteMbPerS: { runc: round2(w.runc.median), runsc: round2(w.runsc.median) },
  };
}

// ------------------------------------------------------------------ cleanup

async function sweep(): Promise<number> {
  const filters = [
    { label: [`${LABEL_RUN}=${runId}`] },
    { label: [`${LABEL_BENCH}=${benchId}`] },
    // The first-experiment arms' sandboxes and warm pools (their runs are `${runId}x…`, the pools' none).
    { label: [`${LABEL_WORKER}=${benchId}`] },
  ];
  const ids = new Set<string>();
  for (const filter of filters) {
    const found = await docker.listContainers({ all: true, filters: filter }).catch(() => []);
    for (const c of found) ids.add(c.Id);
  }
  await Promise.all(
    [...ids].map((id) =>
      docker
        .getContainer(id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  return ids.size;
}

let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`\n${signal}: removing the bench's containers`);
    // A create may still be in flight during the first sweep; the second one catches it.
    void sweep()
      .then(() => new Promise((r) => setTimeout(r, 1000)))
      .then(sweep)
      .finally(() => process.exit(130));
  });
}

/**
 * Sandboxes of other runs on the same engine: their load skews the figures. (Workers' reapers leave the bench's
 * containers alone: they carry the deployment label `bench`, and a reaper only touches its own deployment's.)
 */
async function foreignSandboxes(): Promise<number> {
  const managed = await docker.listContainers({ filters: { label: [`${LABEL_MANAGED}=true`] } }).catch(() => []);
  return managed.filter((c) => c.Labels[LABEL_RUN] !== runId).length;
}

const LOAD_HINT = 'Their load skews the figures; run the bench while no Autolab worker uses this engine.';

// ------------------------------------------------------------------ report

function table(title: string, rows: Array<[string, Stats]>): string {
  const header = ['', 'n', 'median ms', 'p95 ms', 'min ms', 'max ms', 'mean ms'];
  const body = rows.map(([label, s]) => [
    label,
    String(s.n),
    ...[s.median, s.p95, s.min, s.max, s.mean].map((x) => x.toFixed(1)),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [title, line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

async function dockerClientVersion(): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn('docker', ['version', '--format', '{{.Client.Version}}'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', () => resolve('unknown'));
    child.on('exit', () => resolve(out.trim() || 'unknown'));
  });
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const image = await docker
    .getImage(IMAGE)
    .inspect()
    .catch((err: Error) => {
      throw new Error(`image ${IMAGE} not found (${err.message}); run: bash scripts/ensure-services.sh`);
    });
  const foreign = await foreignSandboxes();
  if (foreign > 0) console.warn(`warning: ${foreign} sandbox container(s) of other runs are running. ${LOAD_HINT}\n`);
  const server = await docker.version();
  const host = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryGb: round2(os.totalmem() / 1024 ** 3),
    kernel: os.release(),
    node: process.version,
    dockerServer: server.Version,
    dockerApi: server.ApiVersion,
    dockerClient: await dockerClientVersion(),
    /** 1-minute load average before the run: figures from a busy machine are not comparable with a quiet one. */
    loadAvgBefore: round2(os.loadavg()[0]!),
  };
  console.log(`Autolab sandbox benchmark ${new Date().toISOString()}`);
  console.log(
    `host: ${host.cpus} cpus (${host.cpuModel}), ${host.memoryGb} GiB, kernel ${host.kernel}, node ${host.node}, ` +
      `docker engine ${host.dockerServer} (API ${host.dockerApi}), docker CLI ${host.dockerClient}`,
  );
  console.log(`load average (1 min) before the run: ${host.loadAvgBefore}`);
  console.log(`image: ${IMAGE} (${image.Id.slice(7, 19)}, ${(image.Size / 1e9).toFixed(2)} GB)`);
  console.log(`parts: ${[...parts].join(', ')}\n`);

  const out: Record<string, unknown> = { date: new Date().toISOString(), host, image: IMAGE, imageId: image.Id };
  if (parts.has('sandbox')) Object.assign(out, await benchSandbox());
  if (parts.has('first')) {
    console.log("(d) a run's first experiment (open + clear + upload + program exited) / one warm exec");
    const first = await benchFirstExperiment({
      image: IMAGE,
      deployment: 'bench',
      workerId: benchId,
      runIdPrefix: `${runId}x`,
      concurrencies: [1, 5, 10, 20],
      rounds: (n) => (n === 1 ? 10 : n <= 5 ? 4 : 2),
    });
    out.firstExperiment = first;
    out.firstExperimentPerWarmExec = first['1']!.ratio.median;
    console.log('');
  }
  if (parts.has('api')) {
    console.log('(c) the API against a bare Fastify hello-world (requests per second, interleaved rounds)');
    const api = await benchApi();
    console.log(
      `GET /healthz / hello: median ${api.apiHealthPerHello.median}, p90 ${api.apiHealthPerHello.p90}; ` +
        `GET /v1/runs/:id / hello: median ${api.apiRunGetPerHello.median}, p90 ${api.apiRunGetPerHello.p90}\n`,
    );
    Object.assign(out, {
      api,
      apiRunGetPerHello: api.apiRunGetPerHello.median,
      apiHealthPerHello: api.apiHealthPerHello.median,
    });
  }
  if (parts.has('span')) {
    console.log('(e) node span / program exec time, `long` scenario (44 nodes), worker with the default warm pool');
    // The worker's defaults for the pool and the job lock (the tests' 5 s lock expires when a loaded machine stalls it).
    const stack = await startStack({ workerEnv: { AUTOLAB_SANDBOX_WARM_POOL: '2', AUTOLAB_JOB_LOCK_SECONDS: '30' } });
    try {
      const span = await measureNodeSpan(stack);
      console.log(
        `  ${span.nodes} nodes (${span.status}, ${span.runSeconds} s): ratio median ${span.ratio.median}, p90 ${span.ratio.p90}; ` +
          `overhead per node median ${span.overheadMs.median} ms, p90 ${span.overheadMs.p90} ms\n`,
      );
      Object.assign(out, { nodeSpan: span, nodeSpanPerExec: span.ratio.median });
    } finally {
      await stack.close();
    }
  }
  if (parts.has('rss')) {
    console.log('(f) worker RSS with 1, 5, 10 and 20 live runs (`slow` scenario, one worker process)');
    const rss = await benchWorkerRss([1, 5, 10, 20]);
    Object.assign(out, { workerRssMb: Object.fromEntries(Object.entries(rss).map(([n, r]) => [n, r.rssMb])) });
    console.log('');
  }
  if (parts.has('redis')) {
    console.log('(g) Redis bytes of the long scenario (checkpoint writes over the run, bytes kept once finished)');
    const redis = await benchRedis();
    Object.assign(out, {
      redis: redis.runs,
      redisBytesLongRun: redis.redisBytesLongRun,
      redisCheckpointBytesLongRun: redis.redisCheckpointBytesLongRun,
    });
    console.log('');
  }
  const loadAvgAfter = round2(os.loadavg()[0]!);
  console.log(`load average (1 min) after the run: ${loadAvgAfter}\n`);
  out.host = { ...host, loadAvgAfter };
  console.log(`BENCH_JSON ${JSON.stringify(out)}`);
}

/** (a), (b) and gVisor: the sandbox package against plain Docker. */
async function benchSandbox() {
  console.log(
    `create -> first command: ${ITERATIONS} rounds after ${WARMUP_ROUNDS} warm-up; ` +
      `one exec: ${EXEC_ITERATIONS} rounds after ${EXEC_WARMUP_ROUNDS} warm-up\n`,
  );
  // (a)
  const sandboxFirst: Ms[] = [];
  const sandboxClose: Ms[] = [];
  const cliRun: Ms[] = [];
  const replay = Object.fromEntries(REPLAY_NAMES.map((name) => [name, [] as Array<Record<Phase, Ms>>])) as Record<
    ReplayName,
    Array<Record<Phase, Ms>>
  >;
  let recording = false;
  const createArms = [
    async () => {
      const r = await sandboxFirstCommand();
      if (!recording) return;
      sandboxFirst.push(r.firstCommand);
      sandboxClose.push(r.close);
    },
    async () => {
      const elapsed = await dockerRun();
      if (recording) cliRun.push(elapsed);
    },
    ...REPLAY_NAMES.map((name) => async () => {
      const phases = await replayPhases(REPLAYS[name]());
      if (recording) replay[name].push(phases);
    }),
  ];
  process.stdout.write('(a) create -> first command ... ');
  await interleave(WARMUP_ROUNDS, createArms);
  recording = true;
  await interleave(ITERATIONS, createArms);
  console.log('done');

  // (b)
  const sandboxExec: Ms[] = [];
  const dockerodeExec: Ms[] = [];
  const sandboxReset: Ms[] = [];
  process.stdout.write('(b) one exec on a running container ... ');
  const sandbox = await DockerSandbox.create(docker, IMAGE, DEFAULT_LIMITS, { ...identity, role: 'exec-bench' });
  try {
    const bare = await docker.createContainer(sandboxSpec());
    try {
      await bare.start();
      recording = false;
      const execArms = [
        async () => {
          const t = now();
          const result = await sandbox.exec(['true'], { timeoutMs: 10_000 });
          const elapsed = msSince(t);
          if (result.exitCode !== 0) throw new Error(`sandbox exec of true exited with ${result.exitCode}`);
          if (recording) sandboxExec.push(elapsed);
        },
        async () => {
          const t = now();
          const exitCode = await bareExec(bare);
          const elapsed = msSince(t);
          if (exitCode !== 0) throw new Error(`bare exec of true exited with ${exitCode}`);
          if (recording) dockerodeExec.push(elapsed);
        },
        async () => {
          const t = now();
          await sandbox.reset();
          if (recording) sandboxReset.push(msSince(t));
        },
      ];
      await interleave(EXEC_WARMUP_ROUNDS, execArms);
      recording = true;
      await interleave(EXEC_ITERATIONS, execArms);
    } finally {
      await bare.remove({ force: true }).catch(() => undefined);
    }
  } finally {
    await sandbox.close();
  }
  console.log('done\n');

  const first = { sandbox: stats(sandboxFirst), dockerRun: stats(cliRun), close: stats(sandboxClose) };
  const exec = { sandbox: stats(sandboxExec), dockerode: stats(dockerodeExec), reset: stats(sandboxReset) };
  const phaseStats = (runs: Array<Record<Phase, Ms>>) => {
    const entries = PHASES.map((p) => [p, stats(runs.map((r) => r[p]))] as const);
    const upToExec = stats(runs.map((r) => r.create + r.start + r.inspect + r.exec));
    return { phases: Object.fromEntries(entries) as Record<Phase, Stats>, upToExec };
  };
  const replayStats = REPLAY_NAMES.map((name) => [name, phaseStats(replay[name])] as const);

  console.log(
    table('(a) create -> first command (exec of `true` has returned)', [
      ['DockerSandbox.create + exec(true)', first.sandbox],
      ['docker run --rm --network none (CLI)', first.dockerRun],
      ['DockerSandbox.close (not in the above)', first.close],
    ]),
  );
  const firstRatio = ratio(first.sandbox, first.dockerRun);
  console.log(`ratio sandbox / docker run: median ${firstRatio.median}x, p95 ${firstRatio.p95}x\n`);

  const phaseRows = (label: string, s: ReturnType<typeof phaseStats>): Array<[string, Stats]> => [
    ...PHASES.map((p): [string, Stats] => [`${label}: ${p}`, s.phases[p]]),
    [`${label}: create..exec total`, s.upToExec],
  ];
  console.log(
    table('(a) breakdown: the sandbox calls replayed with bare dockerode, by Docker API call', [
      ...replayStats.flatMap(([name, st]) => phaseRows(name, st)),
    ]),
  );
  console.log('');

  console.log(
    table('(b) one exec of `true` on a running container', [
      ['sandbox.exec', exec.sandbox],
      ['bare dockerode exec', exec.dockerode],
      ['sandbox.reset (kill-all + clear /workspace)', exec.reset],
    ]),
  );
  const execRatio = ratio(exec.sandbox, exec.dockerode);
  console.log(`ratio sandbox / dockerode: median ${execRatio.median}x, p95 ${execRatio.p95}x\n`);

  const gvisor = await benchGvisor();

  const roundPhases = (s: ReturnType<typeof phaseStats>) => ({
    phases: Object.fromEntries(PHASES.map((p) => [p, roundStats(s.phases[p])])),
    upToExec: roundStats(s.upToExec),
  });
  return {
    createFirstCommand: {
      iterations: ITERATIONS,
      warmupRounds: WARMUP_ROUNDS,
      sandboxMs: roundStats(first.sandbox),
      dockerRunMs: roundStats(first.dockerRun),
      sandboxCloseMs: roundStats(first.close),
      ratio: firstRatio,
      replay: Object.fromEntries(replayStats.map(([name, st]) => [name, roundPhases(st)])),
    },
    exec: {
      iterations: EXEC_ITERATIONS,
      warmupRounds: EXEC_WARMUP_ROUNDS,
      sandboxMs: roundStats(exec.sandbox),
      dockerodeMs: roundStats(exec.dockerode),
      sandboxResetMs: roundStats(exec.reset),
      ratio: execRatio,
    },
    gvisor,
  };
}

let failed = false;
try {
  await main();
} catch (err) {
  failed = true;
  // After Ctrl-C the sweep removes containers under the running arms' feet; their errors are expected.
  if (!interrupted) {
    console.error(`\nbench failed: ${(err as Error).stack ?? err}`);
  }
} finally {
  const left = await sweep();
  if (left > 0) console.error(`removed ${left} container(s) the bench left behind`);
}
process.exit(failed ? 1 : 0);
