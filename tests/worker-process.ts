import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A worker as `npm start` runs it: its own process (`apps/worker/src/main.ts`), its log kept in memory. */
export interface WorkerProcess {
  id: string;
  child: ChildProcess;
  /** Everything it wrote to stdout and stderr so far (pino JSON lines, or whatever a crash printed). */
  log(): string;
  /** Parsed log lines whose `msg` matches. */
  lines(msg: RegExp): Record<string, unknown>[];
  /** SIGTERM (graceful shutdown), then waits for it to exit. */
  stop(): Promise<void>;
}

export function startWorkerProcess(env: Record<string, string>, id: string): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/worker/src/main.ts'], {
    cwd: ROOT,
    env: { ...env, AUTOLAB_WORKER_ID: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return {
    id,
    child,
    log: () => output,
    lines: (msg) =>
      output
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((line) => msg.test(String(line.msg))),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}
