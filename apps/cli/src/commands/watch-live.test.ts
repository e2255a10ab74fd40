import type { RunEvent } from '@autolab/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { EventFormatter } from '../event-format.js';
import { RUN_ID, sampleEvents, sampleRun } from '../testing/samples.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';
import { emulateTerminal } from '../testing/terminal-emulator.js';
import { renderStatusBlock } from '../watch/status-block.js';
import { initialWatchState, reduceWatch } from '../watch/watch-state.js';

const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, idleTimeoutMs: 5_000 };
const NOW = Date.parse('2025-01-02T12:02:18.000Z');
const LIVE = { now: () => NOW, frameIntervalMs: 100, tickMs: 1000 };
const HIDE = '\x1b[?25l';
const SHOW = '\x1b[?25h';
const wire = (event: RunEvent) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

let server: StubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const FINAL_RECORD = sampleRun({
  status: 'succeeded',
  stage: 'done',
  experimentStage: null,
  iteration: 6,
  finishedAt: '2025-01-02T12:01:05.000Z',
  review: { overall: 6, decision: 'accept', confidence: 4, reviewers: 3 },
});

async function runServer(events = sampleEvents(), record = FINAL_RECORD) {
  return startStubServer(async (request, res) => {
    if (request.url === `/v1/runs/${RUN_ID}/events`) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // In three bursts, so the view draws more than one frame.
      for (const part of [events.slice(0, 10), events.slice(10, 20), events.slice(20)]) {
        res.write(part.map(wire).join(''));
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
      res.end();
    } else if (request.url === `/v1/runs/${RUN_ID}`) {
      sendJson(res, 200, record);
    } else notFound(res, 'run_not_found', 'no such run');
  });
}

describe('autolab watch on a terminal (live view)', () => {
  it('scrolls the same lines as plain mode above a status block, then leaves the final block and the outcome', async () => {
    server = await runServer();
    const { io, stdout, stderr } = captureIo('', { stdoutColumns: 100 });
    const code = await runCli(['watch', RUN_ID], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: FAST,
      clock: { utc: true },
      live: LIVE,
    });
    expect(code).toBe(0);
    expect(stderr()).toBe('');
    const out = stdout();
    expect(out.startsWith(HIDE)).toBe(true);
    expect(out).toContain(SHOW);
    expect(out.lastIndexOf(SHOW)).toBeGreaterThan(out.lastIndexOf(HIDE));
    expect(out).toMatch(/\r\x1b\[\d+A\x1b\[J/); // redrawn in place at least once
    expect(out).toContain('\x1b[36m'); // coloured (no NO_COLOR)

    const formatter = new EventFormatter({ utc: true });
    const logLines = sampleEvents().flatMap((event) => formatter.format(event));
    let state = reduceWatch(initialWatchState(RUN_ID), { type: 'record', record: FINAL_RECORD });
    for (const event of sampleEvents()) state = reduceWatch(state, { type: 'event', event });
    state = reduceWatch(state, { type: 'record', record: FINAL_RECORD });
    const block = renderStatusBlock(state, { width: 100, color: false, now: NOW });
    const screen = emulateTerminal(out, 100);
    expect(screen).toEqual([
      ...logLines,
      ...block,
      `${RUN_ID} succeeded: 6/6 iterations, best ece=0.0412 (n003), $0.4321, 1m00s`,
      '',
    ]);
    expect(block[0]).toContain('succeeded');
    expect(block).toContain('review     accept, overall 6/10 (confidence 4, 3 reviewers)');
    expect(block.at(-1)).toBe('now        succeeded');
  });

  it('uses no colour with NO_COLOR, and plain lines with --plain or TERM=dumb', async () => {
    server = await runServer();
    const env = { AUTOLAB_URL: server.url };
    const noColor = captureIo('', { stdoutColumns: 80 });
    expect(
      await runCli(['watch', RUN_ID], { env: { ...env, NO_COLOR: '1' }, io: noColor.io, follow: FAST, live: LIVE }),
    ).toBe(0);
    expect(noColor.stdout()).toContain(HIDE);
    expect(noColor.stdout()).not.toMatch(/\x1b\[[0-9;]*m/);

    const piped = captureIo();
    await runCli(['watch', RUN_ID], { env, io: piped.io, follow: FAST, clock: { utc: true } });
    expect(piped.stdout()).not.toContain('\x1b');
    for (const [argv, extraEnv] of [
      [['watch', RUN_ID, '--plain'], {}],
      [['watch', RUN_ID], { TERM: 'dumb' }],
    ] as const) {
      const tty = captureIo('', { stdoutColumns: 80 });
      const code = await runCli([...argv], {
        env: { ...env, ...extraEnv },
        io: tty.io,
        follow: FAST,
        clock: { utc: true },
        live: LIVE,
      });
      expect(code).toBe(0);
      expect(tty.stdout()).toBe(piped.stdout());
    }
  });

  it('restores the cursor and exits 130 on Ctrl-C; the run goes on', async () => {
    const events = sampleEvents();
    server = await startStubServer((request, res) => {
      if (request.url === `/v1/runs/${RUN_ID}/events`) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(events.slice(0, 6).map(wire).join('')); // and then nothing: the run is still going
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun());
      } else notFound(res);
    });
    const { io, stdout, stderr, interrupt } = captureIo('', { stdoutColumns: 80 });
    const watching = runCli(['watch', RUN_ID], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: FAST,
      clock: { utc: true },
      live: LIVE,
    });
    for (let i = 0; i < 200 && !stdout().includes('node.created'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(interrupt()).toBe(true);
    expect(await watching).toBe(130);
    expect(stdout().endsWith(`\n${SHOW}`)).toBe(true);
    expect(stderr()).toBe(`autolab: interrupted; ${RUN_ID} goes on (autolab watch ${RUN_ID} follows it again)\n`);
    expect(server.requests.filter((r) => r.method === 'POST')).toEqual([]); // nothing cancelled
  });

  it('draws nothing for a run that does not exist (exit 4)', async () => {
    server = await runServer();
    const other = 'run_01jzzzzzzzzzzzzzzzzzzzzzzz';
    const { io, stdout, stderr } = captureIo('', { stdoutColumns: 80 });
    expect(await runCli(['watch', other], { env: { AUTOLAB_URL: server.url }, io, follow: FAST, live: LIVE })).toBe(4);
    expect(stdout()).toBe('');
    expect(stderr()).toBe('autolab: run_not_found: no such run\n');
  });

  it('shows reconnects inside the view instead of writing past it', async () => {
    const events = sampleEvents();
    let connections = 0;
    server = await startStubServer((request, res) => {
      if (request.url === `/v1/runs/${RUN_ID}/events`) {
        connections++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (connections === 1) res.write(events.slice(0, 5).map(wire).join(''), () => res.socket?.destroy());
        else res.end(events.slice(5).map(wire).join(''));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, FINAL_RECORD);
      } else notFound(res);
    });
    const { io, stdout, stderr } = captureIo('', { stdoutColumns: 120 });
    const code = await runCli(['watch', RUN_ID], {
      env: { AUTOLAB_URL: server.url, NO_COLOR: '1' },
      io,
      follow: FAST,
      clock: { utc: true },
      live: LIVE,
    });
    expect(code).toBe(0);
    expect(stderr()).toBe('');
    const screen = emulateTerminal(stdout(), 120);
    expect(screen.some((line) => /^autolab: .*reconnecting in .*attempt 1\/3/.test(line))).toBe(true);
  });
});
