import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunEvent, RunRecord } from '@autolab/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../apps/cli/src/cli.js';
import { captureIo } from '../../apps/cli/src/testing/stub-server.js';
import { emulateTerminal } from '../../apps/cli/src/testing/terminal-emulator.js';
import { type Stack, startStack } from '../stack.js';

/**
 * The `autolab` CLI as a user runs it: a child process (`node --import tsx apps/cli/src/main.ts …`) with AUTOLAB_URL
 * and AUTOLAB_API_KEY, against the real stack (API with auth on, worker, Redis, Docker, the scripted model).
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const MAIN = join(ROOT, 'apps/cli/src/main.ts');
const GOAL =
  'How does standardizing the features affect the convergence of logistic regression trained by batch gradient descent on synthetic data?';

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

let stack: Stack;
let runId: string;
let plainWatch: CliResult;
const dirs: string[] = [];

/** Runs the CLI with stdout and stderr piped (not terminals), as in a script. */
function cli(args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 240_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, AUTOLAB_URL: stack.apiUrl, AUTOLAB_API_KEY: stack.apiKey, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the autolab CLI against the real stack', () => {
  beforeAll(async () => {
    stack = await startStack();
  }, 180_000);
  afterAll(async () => {
    await stack?.close();
    await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('submit, then watch (piped: one line per event) until the run succeeds, exit 0', async () => {
    const submitted = await cli(['submit', GOAL, '--max-iterations', '6', '--num-drafts', '1', '--json']);
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    const record = JSON.parse(submitted.stdout) as RunRecord;
    expect(record).toMatchObject({ status: 'queued', tenant: 'test', maxIterations: 6 });
    expect(record.policy.search.numDrafts).toBe(1);
    runId = record.id;

    plainWatch = await cli(['watch', runId]);
    expect(plainWatch.code).toBe(0);
    expect(plainWatch.stdout).not.toContain('\x1b');
    const lines = plainWatch.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d run\.queued {5}How does standardizing/);
    for (const type of ['run.started', 'search.stage', 'node.created', 'node.finished', 'paper.ready']) {
      expect(lines.some((line) => line.includes(` ${type} `))).toBe(true);
    }
    expect(lines.some((line) => /^\d\d:\d\d:\d\d {3}n\d{3} (out|err)\| /.test(line))).toBe(true);
    expect(lines.filter((line) => line.includes(' run.finished '))).toEqual([
      expect.stringMatching(/ run\.finished {3}succeeded \(\$/),
    ]);
    expect(lines.at(-1)).toMatch(new RegExp(`^${runId} succeeded: \\d/6 iterations, best final_loss_standardized=`));
  });

  it('watch --json replays the finished run as JSON lines, the outcome on stderr', async () => {
    const json = await cli(['watch', runId, '--json']);
    expect(json.code).toBe(0);
    const events = json.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    expect(events[0]!.type).toBe('run.queued');
    expect(events.at(-1)).toMatchObject({ type: 'run.finished', data: { status: 'succeeded' } });
    expect(json.stderr).toMatch(new RegExp(`^${runId} succeeded: `));
  });

  it('watch on a terminal draws the live view over the same lines (in process, stdout a fake terminal)', async () => {
    const { io, stdout, stderr } = captureIo('', { stdoutColumns: 110 });
    const code = await runCli(['watch', runId], {
      env: { AUTOLAB_URL: stack.apiUrl, AUTOLAB_API_KEY: stack.apiKey },
      io,
    });
    expect(code).toBe(0);
    expect(stderr()).toBe('');
    expect(stdout().startsWith('\x1b[?25l')).toBe(true);
    const screen = emulateTerminal(stdout(), 110, { joinWrapped: true });
    const plainLines = plainWatch.stdout.trimEnd().split('\n');
    // Everything above the block is what the piped watch printed, each line cut to the width: none wrapped.
    expect(plainLines.some((line) => line.length > 110)).toBe(true);
    expect(screen.slice(0, plainLines.length - 1)).toEqual(
      plainLines.slice(0, -1).map((line) => (line.length > 109 ? `${line.slice(0, 108)}…` : line)),
    );
    const block = screen.slice(plainLines.length - 1, -2);
    expect(block[0]).toMatch(new RegExp(`^── ${runId} · succeeded ─+$`));
    expect(block.find((line) => line.startsWith('iteration'))).toMatch(/\d\/6 \(\d+%\)$/);
    expect(block.find((line) => line.startsWith('best'))).toMatch(/^best {7}final_loss_standardized = /);
    // The scripted model has no price in this stack: its tokens count, and the run has no USD budget. The simulated
    // prefix cache served part of the prompts.
    expect(block.find((line) => line.startsWith('cost'))).toMatch(
      /\(price unknown, no USD budget\), [\d,]+ tokens, \d+% of prompt cached$/,
    );
    expect(block.at(-1)).toBe('now        succeeded');
    expect(screen.at(-2)).toBe(plainLines.at(-1));
  });

  it('tree: the demo search drawn node under parent, the crashed draft marked and the best starred', async () => {
    const tree = await cli(['tree', runId]);
    expect(tree.code).toBe(0);
    const lines = tree.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^metric: final_loss_standardized \(minimize\)$/);
    expect(lines[1]).toMatch(/^n001 +draft +baseline +✗ +[\dhms.]+ +\S/);
    expect(lines[2]).toMatch(/^└─ n002 +debug +baseline +✓ +[\dhms.]+ +0\.\d+/);
    // Columns line up whatever the depth: the operator starts at the same column on every node's line.
    expect(
      new Set(lines.slice(1).map((line) => line.search(/(draft|debug|improve|hyperparameter|ablation) /))),
    ).toHaveProperty('size', 1);
    expect(lines.filter((line) => line.includes('★ best'))).toHaveLength(1);
    const json = JSON.parse((await cli(['tree', runId, '--json'])).stdout) as {
      nodes: { id: string; parentId: string | null; status: string }[];
      bestNodeId: string;
    };
    const status = JSON.parse((await cli(['status', runId, '--json'])).stdout) as { bestMetric: { nodeId: string } };
    expect(json.bestNodeId).toBe(status.bestMetric.nodeId);
    expect(json.nodes.map((n) => n.parentId)).toContain('n001');
    expect(json.nodes.every((n) => n.status !== 'running')).toBe(true);
  });

  it('status, logs of a node, and download paper (a real %PDF)', async () => {
    const status = await cli(['status', runId]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(new RegExp(`^${runId} {2}succeeded \\(done\\)\\n`));
    expect(status.stdout).toContain('  tenant     test\n');

    // n001 is the demo's first draft, which crashes: its stderr holds the traceback.
    const logs = await cli(['logs', runId, 'n001', '--stream', 'stderr']);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/Traceback|Error/);
    const json = await cli(['logs', runId, '2', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ runId, nodeId: 'n002', stdout: expect.any(String) });
    const missing = await cli(['logs', runId, 'n999']);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/no output of node n999/);

    const out = await mkdtemp(join(tmpdir(), 'autolab-cli-e2e-'));
    dirs.push(out);
    const download = await cli(['download', runId, 'paper', '--out', out]);
    expect(download.code).toBe(0);
    expect(download.stderr).toBe(''); // piped: no progress bar
    expect(download.stdout).toContain(`wrote ${join(out, 'paper.pdf')} (`);
    const pdf = await readFile(join(out, 'paper.pdf'));
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(await readFile(join(out, 'paper.tex'), 'utf8')).toContain('\\begin{document}');
  });

  it('hint on a finished run is refused (exit 4); rerun --watch follows only the rerun to its end', async () => {
    const hint = await cli(['hint', runId, 'Try a smaller learning rate.']);
    expect(hint.code).toBe(4);
    expect(hint.stderr).toMatch(/^autolab: run_already_finished: /);

    const rerun = await cli(['rerun', runId, '--from', 'review', '--watch']);
    expect(rerun.stderr).toBe('');
    expect(rerun.code).toBe(0);
    const lines = rerun.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe(`${runId}: rerun from review requested (status now queued)`);
    expect(lines.some((line) => line.includes(' run.queued '))).toBe(false); // the old attempt is not replayed
    expect(lines[1]).toMatch(/ run\.requeued /);
    expect(lines.some((line) => line.includes(' review.completed '))).toBe(true);
    expect(lines.filter((line) => line.includes(' run.finished '))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^${runId} succeeded: `));

    // From the experiments, so the rerun lasts long enough (every search stage again) for the two calls below: a
    // rerun from the writeup alone can end within a second.
    const early = await cli(['rerun', runId, '--from', 'experiments', '--json']);
    expect(early.code).toBe(0);
    expect(JSON.parse(early.stdout)).toMatchObject({ id: runId, status: 'queued' });
    const sent = await cli(['hint', runId, 'Keep the paper short.', '--json']);
    expect(sent.code).toBe(0);
    expect(JSON.parse(sent.stdout)).toMatchObject({
      id: expect.stringMatching(/^hint_/),
      text: 'Keep the paper short.',
    });
    const again = await cli(['rerun', runId, '--from', 'writeup']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/^autolab: run_not_finished: /);
    // Let the rerun end before the stack goes.
    expect((await cli(['watch', runId, '--plain'])).code).toBe(0);
  });

  it('keys: an admin creates, lists and revokes a key; a missing or revoked key gets a clear 401 (exit 4)', async () => {
    const admin = { AUTOLAB_API_KEY: stack.adminKey };
    const created = await cli(['keys', 'create', '--tenant', 'cli-e2e', '--name', 'e2e'], admin);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^alk_[0-9A-Za-z]{32}$/);
    expect(created.stderr).toMatch(/only time the key is shown/);

    const list = await cli(['keys', 'list', '--json'], admin);
    expect(list.code).toBe(0);
    const keys = (JSON.parse(list.stdout) as { keys: { id: string; tenant: string; name: string | null }[] }).keys;
    const mine = keys.find((k) => k.tenant === 'cli-e2e');
    expect(mine).toMatchObject({ name: 'e2e' });

    // The new tenant sees none of tenant test's runs.
    const own = await cli(['list', '--json'], { AUTOLAB_API_KEY: key });
    expect(own.code).toBe(0);
    expect(JSON.parse(own.stdout).runs).toEqual([]);
    const foreign = await cli(['status', runId], { AUTOLAB_API_KEY: key });
    expect(foreign.code).toBe(4);

    const notAdmin = await cli(['keys', 'list'], { AUTOLAB_API_KEY: key });
    expect(notAdmin.code).toBe(4);
    expect(notAdmin.stderr).toMatch(/^autolab: forbidden: .*\n {2}the key in AUTOLAB_API_KEY is not allowed/);

    const revoked = await cli(['keys', 'revoke', mine!.id], admin);
    expect(revoked).toMatchObject({ code: 0, stdout: `revoked key ${mine!.id}\n` });
    const refused = await cli(['list'], { AUTOLAB_API_KEY: key });
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(/^autolab: unauthorized: .*\n {2}the server did not accept the key/);
    const anonymous = await cli(['list'], { AUTOLAB_API_KEY: '' });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(/\n {2}this server needs an API key: set AUTOLAB_API_KEY/);
  });
});
