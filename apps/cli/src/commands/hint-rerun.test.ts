import type { RunEvent } from '@autolab/contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { RUN_ID, sampleEvents, sampleRun } from '../testing/samples.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';

const HINT = {
  id: 'hint_01',
  text: 'Try label smoothing 0.2.',
  createdAt: '2025-01-02T12:00:00.000Z',
  appliedAt: null,
  appliedTo: null,
};
const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, idleTimeoutMs: 5_000 };
const wire = (event: RunEvent) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

let server: StubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('autolab hint', () => {
  it('posts the text and reports the hint (202), or the refusal of a finished run (409 → exit 4)', async () => {
    let finished = false;
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === `/v1/runs/${RUN_ID}/hints`) {
        if (finished) sendJson(res, 409, { error: { code: 'run_already_finished', message: 'The run has finished.' } });
        else sendJson(res, 202, { ...HINT, text: JSON.parse(request.body).text });
      } else notFound(res);
    });
    const env = { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'k1' };

    const sent = captureIo();
    expect(await runCli(['hint', RUN_ID, 'Try', 'label smoothing', '0.2.'], { env, io: sent.io })).toBe(0);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ text: 'Try label smoothing 0.2.' });
    expect(server.requests[0]!.headers.authorization).toBe('Bearer k1');
    expect(server.requests[0]!.headers['content-type']).toBe('application/json');
    expect(sent.stdout()).toBe(
      `hint_01: sent to ${RUN_ID}: "Try label smoothing 0.2."\n` +
        'the agent reads it at its next step; `autolab watch` shows hint.applied when it does\n',
    );

    const json = captureIo('  from stdin\n');
    expect(await runCli(['hint', RUN_ID, '-', '--json'], { env, io: json.io })).toBe(0);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ text: 'from stdin' });
    expect(JSON.parse(json.stdout())).toEqual({ ...HINT, text: 'from stdin' });

    finished = true;
    const refused = captureIo();
    expect(await runCli(['hint', RUN_ID, 'too late'], { env, io: refused.io })).toBe(4);
    expect(refused.stderr()).toBe('autolab: run_already_finished: The run has finished.\n');
  });

  it('refuses an empty or oversized hint before sending anything', async () => {
    server = await startStubServer((_request, res) => notFound(res));
    const env = { AUTOLAB_URL: server.url };
    const empty = captureIo('   ');
    expect(await runCli(['hint', RUN_ID, '-'], { env, io: empty.io })).toBe(2);
    expect(empty.stderr()).toBe('autolab: the hint needs some text\n');
    const long = captureIo();
    expect(await runCli(['hint', RUN_ID, 'x'.repeat(2001)], { env, io: long.io })).toBe(2);
    expect(long.stderr()).toBe('autolab: the hint needs at most 2000 characters\n');
    expect(await runCli(['hint', RUN_ID], { env, io: captureIo().io })).toBe(2);
    expect(server.requests).toHaveLength(0);
  });
});

describe('autolab rerun', () => {
  it('posts the stage and reports the run (202), or the refusal (409 → exit 4)', async () => {
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === `/v1/runs/${RUN_ID}/rerun`) {
        const { fromStage } = JSON.parse(request.body);
        if (fromStage === 'review')
          sendJson(res, 409, { error: { code: 'run_not_finished', message: 'still running' } });
        else sendJson(res, 202, sampleRun({ status: 'queued' }));
      } else notFound(res);
    });
    const env = { AUTOLAB_URL: server.url };
    const ok = captureIo();
    expect(await runCli(['rerun', RUN_ID, '--from', 'writeup'], { env, io: ok.io })).toBe(0);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ fromStage: 'writeup' });
    expect(ok.stdout()).toBe(
      `${RUN_ID}: rerun from writeup requested (status now queued)\nwatch it with: autolab watch ${RUN_ID}\n`,
    );

    const json = captureIo();
    expect(await runCli(['rerun', RUN_ID, '--from=figures', '--json'], { env, io: json.io })).toBe(0);
    expect(JSON.parse(json.stdout())).toMatchObject({ id: RUN_ID, status: 'queued' });

    const refused = captureIo();
    expect(await runCli(['rerun', RUN_ID, '--from', 'review'], { env, io: refused.io })).toBe(4);
    expect(refused.stderr()).toBe('autolab: run_not_finished: still running\n');
  });

  it('needs --from with a known stage', async () => {
    for (const argv of [
      ['rerun', RUN_ID],
      ['rerun', RUN_ID, '--from', 'ideation'],
    ]) {
      const { io, stderr } = captureIo();
      expect(await runCli(argv, { env: {}, io })).toBe(2);
      expect(stderr()).toMatch(/--from/);
    }
  });

  it('--watch follows only what the rerun adds to the log, past the old run.finished', async () => {
    const old = sampleEvents();
    const added = sampleEvents().map((event, index) => ({ ...event, id: `1800000000000-${index}` }) as RunEvent);
    const log = [...old, ...added];
    server = await startStubServer((request, res) => {
      const url = new URL(request.url, 'http://x');
      if (url.pathname === `/v1/runs/${RUN_ID}/events` && request.headers.accept === 'application/json') {
        // JSON pages: all of the old log, page by page.
        const after = url.searchParams.get('after');
        const limit = Number(url.searchParams.get('limit'));
        const from = after ? old.findIndex((e) => e.id === after) + 1 : 0;
        const events = old.slice(from, from + Math.min(limit, 10));
        sendJson(res, 200, { events, next: null, finished: true });
      } else if (url.pathname === `/v1/runs/${RUN_ID}/events`) {
        const after = request.headers['last-event-id'];
        const from = after ? log.findIndex((e) => e.id === after) + 1 : 0;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(log.slice(from).map(wire).join(''));
      } else if (request.method === 'POST' && url.pathname === `/v1/runs/${RUN_ID}/rerun`) {
        sendJson(res, 202, sampleRun({ status: 'queued' }));
      } else if (url.pathname === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun({ status: 'succeeded' }));
      } else notFound(res);
    });
    const { io, stdout } = captureIo();
    const code = await runCli(['rerun', RUN_ID, '--from', 'writeup', '--watch'], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: FAST,
      clock: { utc: true },
    });
    expect(code).toBe(0);
    const streams = server.requests.filter((r) => r.url === `/v1/runs/${RUN_ID}/events`);
    expect(streams).toHaveLength(1);
    expect(streams[0]!.headers['last-event-id']).toBe(old.at(-1)!.id);
    const lines = stdout().trimEnd().split('\n');
    expect(lines[0]).toBe(`${RUN_ID}: rerun from writeup requested (status now queued)`);
    expect(lines.filter((line) => line.includes('run.finished'))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^${RUN_ID} succeeded`));
  });
});

describe('autolab watch across a rerun', () => {
  it('goes past a run.finished when the run is live again, and ends at the last one', async () => {
    const first = sampleEvents();
    const second = sampleEvents().map((event, index) => ({ ...event, id: `1800000000000-${index}` }) as RunEvent);
    const lastOfFirst = first.at(-1)!;
    first[first.length - 1] = {
      ...lastOfFirst,
      data: { ...lastOfFirst.data, status: 'failed', error: { code: 'x', message: 'y' } },
    } as RunEvent;
    let recordReads = 0;
    server = await startStubServer((request, res) => {
      if (request.url === `/v1/runs/${RUN_ID}/events`) {
        // Like the API: a stream ends right after a run.finished.
        const after = request.headers['last-event-id'];
        const log = [...first, ...second];
        const from = after ? log.findIndex((e) => e.id === after) + 1 : 0;
        const end = from < first.length ? first.length : log.length;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(log.slice(from, end).map(wire).join(''));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        recordReads++;
        sendJson(res, 200, sampleRun({ status: recordReads === 1 ? 'running' : 'succeeded' }));
      } else notFound(res);
    });
    const { io, stdout } = captureIo();
    const code = await runCli(['watch', RUN_ID], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: FAST,
      clock: { utc: true },
    });
    expect(code).toBe(0);
    const finishedLines = stdout()
      .split('\n')
      .filter((line) => line.includes(' run.finished '));
    expect(finishedLines).toEqual([
      '12:00:31 run.finished   failed x: y ($0.4321, 12 model calls)',
      '12:00:31 run.finished   succeeded ($0.4321, 12 model calls)',
    ]);
    const streams = server.requests.filter((r) => r.url === `/v1/runs/${RUN_ID}/events`);
    expect(streams[1]!.headers['last-event-id']).toBe(first.at(-1)!.id);
    expect(recordReads).toBe(2);
  });
});
