/**
 * What a run keeps in Redis and writes to it (`npm run bench -- redis`, and part of `npm run bench`): the `long`
 * scenario (fast numpy programs, one per node) through the real stack (API, worker, Docker, Redis) at 11, 22 and 44
 * nodes. For each run: the bytes of checkpoint writes sent to Redis over the run (the arguments of every command that
 * names the run's checkpoint or node hash, seen on a MONITOR connection, the Lua script text left out), and
 * `MEMORY USAGE` summed over the run's keys right after it finished and after the run archiver moved its events and
 * checkpoint to the artifact store. Checkpoint traffic linear in nodes shows as bytes per node staying flat.
 *
 * Knobs: BENCH_REDIS_NODES (default `11,22,44`; the last is the one reported as `redisBytesLongRun`).
 */
import { openRunArchiveStore, RedisKeys, RunArchiver, RunStore } from '@autolab/store';
import { loadWorkerConfig } from '@autolab/worker';
import { Redis } from 'ioredis';
import { type Stack, startStack, submitRun, waitForStatus } from '../tests/stack.js';

const NODES = (process.env.BENCH_REDIS_NODES ?? '11,22,44').split(',').map(Number);

export interface RedisRunBytes {
  nodes: number;
  /** Bytes of checkpoint writes sent to Redis over the whole run. */
  checkpointBytesWritten: number;
  checkpointBytesPerNode: number;
  checkpointWrites: number;
  /** MEMORY USAGE over the run's keys when it has just finished. */
  keptAtFinish: number;
  /** The same once the run archiver has moved its events and checkpoint to the artifact store. */
  keptArchived: number;
}

export interface RedisBench {
  runs: RedisRunBytes[];
  /** The largest run's bytes kept once archived. */
  redisBytesLongRun: number;
  redisCheckpointBytesLongRun: number;
}

async function keptBytes(redis: Redis, prefix: string, runId: string): Promise<number> {
  const keys = await redis.keys(`${prefix}:run:${runId}*`);
  let total = 0;
  for (const key of keys) total += Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
  return total;
}

async function measure(stack: Stack, nodes: number, redisUrl: string): Promise<RedisRunBytes> {
  const monitor = await new Redis(redisUrl).monitor();
  let runId = '';
  let bytes = 0;
  let writes = 0;
  monitor.on('monitor', (_time: string, args: string[]) => {
    if (!runId) return;
    const checkpoint = `${stack.prefix}:run:${runId}:checkpoint`;
    const nodeHash = `${stack.prefix}:run:${runId}:nodes`;
    if (!args.some((arg) => arg === checkpoint || arg === nodeHash)) return;
    const command = args[0]?.toLowerCase();
    if (command === 'get' || command === 'hgetall' || command === 'exists' || command === 'memory') return;
    const payload = command === 'eval' ? args.slice(2) : args.slice(1);
    bytes += payload.reduce((sum, arg) => sum + Buffer.byteLength(arg), 0);
    writes += 1;
  });
  try {
    const run = await submitRun(stack, {
      goal: 'How do optimizer settings affect logistic regression on badly scaled features?',
      model: 'long',
      maxIterations: nodes,
      search: { numDrafts: 1 },
      seeds: 0,
      review: { reviewers: 0 },
      timeLimitMinutes: 60,
    });
    runId = run.id;
    const done = await waitForStatus(stack, run.id, ['succeeded', 'failed', 'cancelled'], 60 * 60_000);
    if (done.status !== 'succeeded')
      throw new Error(`the ${nodes}-node run ${done.status}: ${JSON.stringify(done.error)}`);
    // MONITOR lags the commands a little: let it catch up.
    await new Promise((r) => setTimeout(r, 1000));
    runId = '';
    const keptAtFinish = await keptBytes(stack.redis, stack.prefix, run.id);
    const config = loadWorkerConfig(stack.workerEnv());
    const archive = openRunArchiveStore(config.artifacts, { waitForOutages: true });
    const runs = new RunStore(stack.redis, new RedisKeys(stack.prefix), archive);
    if (!(await new RunArchiver(runs, archive, 0).archive(run.id))) throw new Error('the run could not be archived');
    const keptArchived = await keptBytes(stack.redis, stack.prefix, run.id);
    return {
      nodes,
      checkpointBytesWritten: bytes,
      checkpointBytesPerNode: Math.round(bytes / nodes),
      checkpointWrites: writes,
      keptAtFinish,
      keptArchived,
    };
  } finally {
    monitor.disconnect();
  }
}

export async function benchRedis(): Promise<RedisBench> {
  // Finished runs stay in Redis for the hour of the default retention: the bench archives them itself, measured.
  const stack = await startStack({ workerEnv: { AUTOLAB_EVENTS_RETENTION_SECONDS: '3600', LOG_LEVEL: 'error' } });
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  try {
    const runs: RedisRunBytes[] = [];
    for (const nodes of NODES) {
      const result = await measure(stack, nodes, redisUrl);
      runs.push(result);
      console.log(
        `${nodes} nodes: checkpoint writes ${result.checkpointWrites}, ${result.checkpointBytesWritten} bytes ` +
          `(${result.checkpointBytesPerNode} per node); kept at finish ${result.keptAtFinish} bytes, ` +
          `archived ${result.keptArchived} bytes`,
      );
    }
    const last = runs.at(-1)!;
    return { runs, redisBytesLongRun: last.keptArchived, redisCheckpointBytesLongRun: last.checkpointBytesWritten };
  } finally {
    await stack.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchRedis();
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
  process.exit(0);
}
