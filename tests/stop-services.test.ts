import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/**
 * scripts/stop-services.sh stops what the set-up scripts started, from the record in .data/started. Seen: Ctrl-C on
 * `npm run demo 2>&1 | tee log` killed tee first, the script's "stopping redis" line hit the closed pipe, SIGPIPE
 * ended the stop loop before its `kill`, and the record was rewritten anyway: Redis kept running and nothing
 * remembered it. Here the script runs from a copy of the repository layout, with its output a pipe nobody reads.
 */
const SCRIPT = new URL('../scripts/stop-services.sh', import.meta.url);
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

let root: string;
let sleepers: ChildProcess[] = [];

function layout(): string {
  root = mkdtempSync(join(tmpdir(), 'autolab-stop-'));
  mkdirSync(join(root, 'scripts'));
  mkdirSync(join(root, '.data'));
  copyFileSync(SCRIPT, join(root, 'scripts/stop-services.sh'));
  return root;
}

function sleeper(): number {
  const child = spawn('sleep', ['600'], { stdio: 'ignore', detached: true });
  sleepers.push(child);
  return child.pid!;
}

/** Runs the script with stdout and stderr a pipe whose reader is already gone (as after tee died of Ctrl-C). */
async function stopWithClosedOutput(args: string[] = []): Promise<void> {
  const child = spawn('bash', [join(root, 'scripts/stop-services.sh'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.destroy();
  child.stderr!.destroy();
  await once(child, 'exit');
}

afterEach(() => {
  for (const child of sleepers) if (child.pid && alive(child.pid)) process.kill(child.pid, 'SIGKILL');
  sleepers = [];
  rmSync(root, { recursive: true, force: true });
});

describe('scripts/stop-services.sh', () => {
  it('stops every recorded process even when its output goes nowhere, then forgets them', async () => {
    layout();
    const [first, second] = [sleeper(), sleeper()];
    writeFileSync(join(root, '.data/started'), `redis ${first}\ndockerd ${second}\n`);
    await stopWithClosedOutput();
    expect([alive(first), alive(second)]).toEqual([false, false]);
    expect(readFileSync(join(root, '.data/started'), 'utf8')).toBe('');
  });

  it('stops only what came after the mark, and keeps the lines before it', async () => {
    layout();
    const [kept, stopped] = [sleeper(), sleeper()];
    writeFileSync(join(root, '.data/started'), `redis ${kept}\ndockerd ${stopped}\n`);
    await stopWithClosedOutput(['1']);
    expect([alive(kept), alive(stopped)]).toEqual([true, false]);
    expect(readFileSync(join(root, '.data/started'), 'utf8')).toBe(`redis ${kept}\n`);
  });

  it('keeps a process it could not stop in the record', async () => {
    layout();
    // Ignores SIGTERM, so the script's kill does not end it: it must stay remembered for the next stop.
    const stubborn = spawn('bash', ['-c', "trap '' TERM; while :; do sleep 0.1; done"], {
      stdio: 'ignore',
      detached: true,
    });
    sleepers.push(stubborn);
    writeFileSync(join(root, '.data/started'), `stubborn ${stubborn.pid}\n`);
    await stopWithClosedOutput();
    expect(alive(stubborn.pid!)).toBe(true);
    expect(readFileSync(join(root, '.data/started'), 'utf8')).toBe(`stubborn ${stubborn.pid}\n`);
  }, 40_000);
});
