/**
 * The worker's resident memory with 1, 5, 10 and 20 live runs (issue 10: keep it flat), part of `npm run bench`
 * (scripts/bench.ts; `npm run bench -- rss` alone).
 *
 * One worker process (`apps/worker/src/main.ts`, concurrency 20, the default warm pool) against an in-process API and
 * scripted model server on the real Redis and Docker engine. For each count, that many runs of the `slow` scenario
 * (one experiment that prints a line every half second for two minutes) are submitted; once every one of them is
 * inside its experiment, the worker's RSS (/proc/PID/status VmRSS) is read five times, half a second apart, and the
 * median kept. Then the runs are cancelled and the next count starts from an idle worker.
 */
import { readFile } from 'node:fs/promises';
import { api, readSse, startStack, submitRun, waitForStatus } from '../tests/stack.js';
import { startWorkerProcess } from '../tests/worker-process.js';

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1] ?? Number.NaN);
  return Math.round(kb / 102.4) / 10;
}

export async function benchWorkerRss(counts: number[]) {
  const stack = await startStack({ worker: false });
  const worker = startWorkerProcess(
    stack.workerEnv({
      AUTOLAB_WORKER_CONCURRENCY: String(Math.max(...counts)),
      AUTOLAB_SANDBOX_WARM_POOL: '2',
      // The default lock: the tests' 5 s lock expires when a loaded machine stalls the worker.
      AUTOLAB_JOB_LOCK_SECONDS: '30',
    }),
    `bench-rss-${Date.now().toString(36)}`,
  );
  const result: Record<string, { rssMb: number; idleRssMb: number }> = {};
  try {
    // Started: its modules loaded and its memory settled (two readings a second apart within 2 MB).
    for (let previous = 0, tries = 0; tries < 120; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const now = await rssMb(worker.child.pid!);
      if (now > 50 && Math.abs(now - previous) < 2) break;
      previous = now;
    }
    for (const count of counts) {
      const idle = await rssMb(worker.child.pid!);
      const runs = await Promise.all(
        Array.from({ length: count }, () =>
          submitRun(stack, {
            goal: 'Count slowly while the worker is measured.',
            model: 'slow',
            seeds: 0,
            review: { reviewers: 0 },
          }),
        ),
      );
      // Every run inside its experiment: the program has printed its second line.
      await Promise.all(
        runs.map((run) =>
          readSse(stack, run.id, {
            stopWhen: (e) => e.type === 'exec.output' && (e.data as { text: string }).text.includes('step 2'),
            timeoutMs: 300_000,
          }),
        ),
      );
      const samples: number[] = [];
      for (let i = 0; i < 5; i++) {
        samples.push(await rssMb(worker.child.pid!));
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
      samples.sort((a, b) => a - b);
      result[String(count)] = { rssMb: samples[2]!, idleRssMb: idle };
      console.log(`  ${count} live run(s): worker RSS ${samples[2]} MB (idle before: ${idle} MB)`);
      await Promise.all(runs.map((run) => api(stack, `/v1/runs/${run.id}/cancel`, { method: 'POST' })));
      await Promise.all(runs.map((run) => waitForStatus(stack, run.id, ['cancelled', 'failed', 'succeeded'], 120_000)));
    }
  } finally {
    await worker.stop();
    await stack.close();
  }
  return result;
}
