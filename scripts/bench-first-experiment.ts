/**
 * A run's first experiment against one warm `docker exec` (issue 10's `firstExperimentPerWarmExec`), part of
 * `npm run bench` (scripts/bench.ts; `npm run bench -- first` alone).
 *
 * First experiment: what a run's first node waits for from asking for a sandbox until its program has exited: the
 * factory's `open('python')` (a warm sandbox taken from the worker's pool, or a container created and started) and
 * `runProgram` (clear, upload, program). The program is `echo ok`; it has exited when its output arrived. (The copy of
 * its files out afterwards is reported apart, as `withCollectMs`.) Warm exec: a bare dockerode exec of `echo ok` on a
 * running container with the same spec, the floor any sandbox step pays.
 *
 * With 1, 5, 10 and 20 first experiments at once (as many runs starting together; the pool sized to match), in
 * rounds that interleave three arms: with the pool, without it (what a run paid before the pool), and the warm execs
 * (as many at once as experiments in the other arms).
 */
import { containerSpec, DEFAULT_LIMITS, DockerClient, DockerSandboxFactory, WarmPool } from '@autolab/sandbox';

export interface FirstExperimentOptions {
  image: string;
  /** Labels every container: a deployment no worker's reaper touches, and a worker/run id the final sweep finds. */
  deployment: string;
  workerId: string;
  runIdPrefix: string;
  concurrencies: number[];
  rounds: (concurrency: number) => number;
}

type Ms = number;

const PROGRAM = { command: ['echo', 'ok'], exec: { timeoutMs: 30_000 } };
const OUTPUTS = { maxFiles: 10, maxFileBytes: 10_000, maxTotalBytes: 100_000 };

function quantile(samples: Ms[], q: number): Ms {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
const round2 = (x: number) => Math.round(x * 100) / 100;
const summary = (samples: Ms[]) => ({
  n: samples.length,
  median: round2(quantile(samples, 0.5)),
  p90: round2(quantile(samples, 0.9)),
});

export async function benchFirstExperiment(options: FirstExperimentOptions) {
  const docker = new DockerClient({ retryMs: 10_000 });
  let runs = 0;
  const factory = (warm: WarmPool | null) =>
    new DockerSandboxFactory(
      docker,
      { python: options.image, latex: options.image },
      {
        deployment: options.deployment,
        runId: `${options.runIdPrefix}${runs++}`,
        attempt: 1,
        workerId: options.workerId,
      },
      {},
      'runc',
      [],
      [],
      warm,
    );

  /** One first experiment: open + runProgram; the time until the program's output arrived, and until it returned. */
  const firstExperiment = async (warm: WarmPool | null) => {
    const sandboxes = factory(warm);
    const started = performance.now();
    let exited = 0;
    try {
      const sandbox = await sandboxes.open('python');
      const outcome = await sandbox.runProgram({
        files: [{ path: 'main.py', content: Buffer.from('print("ok")\n') }],
        command: PROGRAM.command,
        exec: {
          ...PROGRAM.exec,
          onOutput: () => {
            exited ||= performance.now();
          },
        },
        outputs: OUTPUTS,
      });
      const returned = performance.now();
      if (outcome.exec.exitCode !== 0 || !exited)
        throw new Error(`the first experiment failed: ${outcome.exec.stderr.text}`);
      return { toExit: exited - started, withCollect: returned - started };
    } finally {
      await sandboxes.closeAll();
    }
  };

  const warmContainer = await docker.createContainer({
    ...containerSpec(options.image, DEFAULT_LIMITS, {
      deployment: options.deployment,
      runId: `${options.runIdPrefix}warm`,
      attempt: 1,
      role: 'warm-exec',
      workerId: options.workerId,
    }),
    name: `autolab-${options.runIdPrefix}warm-${Date.now().toString(36)}`,
  });
  await warmContainer.start();
  const warmExec = async (): Promise<Ms> => {
    const started = performance.now();
    const exec = await warmContainer.exec({ Cmd: PROGRAM.command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    stream.resume();
    await new Promise<void>((resolve) => {
      stream.on('end', resolve);
      stream.on('close', resolve);
    });
    const { ExitCode } = await exec.inspect();
    if (ExitCode !== 0) throw new Error(`warm exec exited with ${ExitCode}`);
    return performance.now() - started;
  };

  const results: Record<
    string,
    {
      pooled: { toExitMs: ReturnType<typeof summary>; withCollectMs: ReturnType<typeof summary>; hits: number };
      unpooled: { toExitMs: ReturnType<typeof summary>; withCollectMs: ReturnType<typeof summary> };
      warmExecMs: ReturnType<typeof summary>;
      ratio: { median: number; p90: number };
      unpooledRatio: { median: number; p90: number };
    }
  > = {};
  try {
    // Warm-up: the image's layers, the engine's caches, the exec path.
    await firstExperiment(null);
    await warmExec();
    for (const concurrency of options.concurrencies) {
      const pooled: { toExit: Ms; withCollect: Ms }[] = [];
      const unpooled: { toExit: Ms; withCollect: Ms }[] = [];
      const warm: Ms[] = [];
      let hits = 0;
      const arms = [
        async () => {
          const pool = new WarmPool(docker, {
            size: concurrency,
            idleTtlMs: 0,
            deployment: options.deployment,
            workerId: options.workerId,
            runtime: 'runc',
            image: options.image,
            limits: DEFAULT_LIMITS,
            onTake: (hit) => {
              if (hit) hits++;
            },
          });
          pool.start();
          // Filling the pool is the worker's background work, not the run's: it is not timed.
          while (pool.idleCount < concurrency) await new Promise((resolve) => setTimeout(resolve, 50));
          try {
            pooled.push(...(await Promise.all(Array.from({ length: concurrency }, () => firstExperiment(pool)))));
          } finally {
            await pool.close();
          }
        },
        async () => {
          unpooled.push(...(await Promise.all(Array.from({ length: concurrency }, () => firstExperiment(null)))));
        },
        async () => {
          warm.push(...(await Promise.all(Array.from({ length: concurrency }, () => warmExec()))));
        },
      ];
      const rounds = options.rounds(concurrency);
      for (let round = 0; round < rounds; round++) {
        // The order rotates every round, so the machine's drift touches every arm alike.
        for (let i = 0; i < arms.length; i++) await arms[(round + i) % arms.length]!();
      }
      const warmMs = summary(warm);
      const toExit = summary(pooled.map((p) => p.toExit));
      const unpooledToExit = summary(unpooled.map((p) => p.toExit));
      results[String(concurrency)] = {
        pooled: { toExitMs: toExit, withCollectMs: summary(pooled.map((p) => p.withCollect)), hits },
        unpooled: { toExitMs: unpooledToExit, withCollectMs: summary(unpooled.map((p) => p.withCollect)) },
        warmExecMs: warmMs,
        ratio: { median: round2(toExit.median / warmMs.median), p90: round2(toExit.p90 / warmMs.p90) },
        unpooledRatio: {
          median: round2(unpooledToExit.median / warmMs.median),
          p90: round2(unpooledToExit.p90 / warmMs.p90),
        },
      };
      console.log(
        `  ${concurrency} at once: with the pool ${toExit.median} ms (p90 ${toExit.p90}), without ${unpooledToExit.median} ms ` +
          `(p90 ${unpooledToExit.p90}), warm exec ${warmMs.median} ms (p90 ${warmMs.p90}); ` +
          `first experiment / warm exec: ${results[String(concurrency)]!.ratio.median} with the pool, ` +
          `${results[String(concurrency)]!.unpooledRatio.median} without (${hits}/${pooled.length} pool hits)`,
      );
    }
  } finally {
    await warmContainer.remove({ force: true }).catch(() => undefined);
  }
  return results;
}

export type FirstExperimentResults = Awaited<ReturnType<typeof benchFirstExperiment>>;
