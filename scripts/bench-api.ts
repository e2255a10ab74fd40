/**
 * The API's hot path against a bare Fastify hello-world on the same machine (`npm run bench -- api`, and part of
 * `npm run bench`): requests per second of `GET /healthz` and of `GET /v1/runs/:id` (authenticated, rate-limited,
 * the run read from Redis), each divided by the hello-world's, measured in interleaved rounds so that load on the
 * machine hits all three alike. Reports the median and p90 of the per-round ratios.
 *
 * Knobs: BENCH_API_ROUNDS (default 5), BENCH_API_SECONDS per measurement (default 3), BENCH_API_CONNECTIONS (10).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RedisKeys, WorkerRegistry } from '@autolab/store';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { type Stack, startStack, submitRun } from '../tests/stack.js';

const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 5);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 10);

async function requestsPerSecond(url: string, headers: Record<string, string> = {}): Promise<number> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  const failed = result.non2xx + result.errors + result.timeouts;
  if (failed > 0) {
    const statuses = Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => `${count}× ${code}`);
    throw new Error(`${url}: ${failed} of ${result.requests.total} requests failed (${statuses.join(', ')})`);
  }
  return result.requests.average;
}

const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const round2 = (x: number) => Math.round(x * 100) / 100;

export interface ApiBench {
  rounds: number;
  helloRps: { median: number };
  apiHealthPerHello: { median: number; p90: number };
  apiRunGetPerHello: { median: number; p90: number };
}

export async function benchApi(): Promise<ApiBench> {
  const hello = Fastify({ logger: false });
  hello.get('/', async () => ({ hello: 'world' }));
  const helloUrl = await hello.listen({ host: '127.0.0.1', port: 0 });
  let stack: Stack | null = null;
  let beat: NodeJS.Timeout | undefined;
  try {
    // The limit is counted as in a deployment, but set far above what the rounds send (a few hundred thousand
    // requests): a 429 would fail the round.
    stack = await startStack({
      worker: false,
      apiEnv: { LOG_LEVEL: 'silent', AUTOLAB_RATE_LIMIT_PER_MINUTE: '100000000' },
    });
    // A live worker with a working engine, as /healthz finds it in a deployment (200, not 503).
    const registry = new WorkerRegistry(stack.redis, new RedisKeys(stack.prefix));
    const heartbeat = {
      workerId: `bench-${randomBytes(3).toString('hex')}`,
      host: hostname(),
      pid: process.pid,
      startedAt: new Date().toISOString(),
      concurrency: 1,
      activeRuns: [],
      dockerOk: true,
    };
    await registry.beat(heartbeat, 30_000);
    beat = setInterval(() => void registry.beat(heartbeat, 30_000), 10_000);
    const run = await submitRun(stack, { goal: 'A run the API benchmark reads again and again.' });
    const auth = { authorization: `Bearer ${stack.apiKey}` };
    const health: number[] = [];
    const runGet: number[] = [];
    const helloRps: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const h = await requestsPerSecond(helloUrl);
      const z = await requestsPerSecond(`${stack.apiUrl}/healthz`);
      const g = await requestsPerSecond(`${stack.apiUrl}/v1/runs/${run.id}`, auth);
      helloRps.push(h);
      health.push(z / h);
      runGet.push(g / h);
      console.log(
        `round ${round + 1}/${ROUNDS}: hello ${Math.round(h)}/s, /healthz ${Math.round(z)}/s (${round2(z / h)}), GET /v1/runs/:id ${Math.round(g)}/s (${round2(g / h)})`,
      );
    }
    const stats = (values: number[]) => ({ median: round2(quantile(values, 0.5)), p90: round2(quantile(values, 0.9)) });
    return {
      rounds: ROUNDS,
      helloRps: { median: Math.round(quantile(helloRps, 0.5)) },
      apiHealthPerHello: stats(health),
      apiRunGetPerHello: stats(runGet),
    };
  } finally {
    clearInterval(beat);
    await stack?.close();
    await hello.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const result = await benchApi();
  console.log(`BENCH_JSON ${JSON.stringify(result)}`);
  process.exit(0);
}
