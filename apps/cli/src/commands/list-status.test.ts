import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { RUN_ID, sampleEvents, sampleRun } from '../testing/samples.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';

const OTHER = 'run_01jzzzzzzzzzzzzzzzzzzzzzzz';

describe('autolab list, status, cancel and submit --watch (against a real HTTP server)', () => {
  let server: StubServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('list prints a table with paging, and passes limit and cursor', async () => {
    server = await startStubServer((request, res) => {
      sendJson(res, 200, {
        runs: [
          sampleRun(),
          sampleRun({
            id: OTHER,
            status: 'queued',
            stage: null,
            iteration: 0,
            bestMetric: null,
            usage: { ...sampleRun().usage, costUsd: 0 },
          }),
        ],
        nextCursor: request.url.includes('cursor=') ? null : 'c2',
      });
    });
    const env = { AUTOLAB_URL: server.url };
    const first = captureIo();
    expect(await runCli(['list', '--limit', '2'], { env, io: first.io, clock: { utc: true } })).toBe(0);
    const lines = first.stdout().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+STAGE\s+ITER\s+BEST\s+COST\s+CREATED\s+GOAL$/);
    expect(lines[1]).toMatch(
      new RegExp(
        `^${RUN_ID}\\s+running\\s+experiments\\s+3/6\\s+ece=0.0412\\s+\\$0.4321\\s+2025-01-02 12:00\\s+Does label`,
      ),
    );
    expect(lines[2]).toMatch(new RegExp(`^${OTHER}\\s+queued\\s+-\\s+0/6\\s+-\\s+\\$0.00\\s+2025-01-02 12:00`));
    expect(lines[3]).toBe('more: autolab list --cursor c2');
    expect(server.requests[0]!.url).toBe('/v1/runs?limit=2');

    const second = captureIo();
    expect(await runCli(['list', '--cursor', 'c2', '--json'], { env, io: second.io })).toBe(0);
    expect(server.requests[1]!.url).toBe('/v1/runs?cursor=c2');
    expect(JSON.parse(second.stdout()).runs).toHaveLength(2);
  });

  it('status summarises a record; cancel posts and reports', async () => {
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === `/v1/runs/${RUN_ID}/cancel`) {
        sendJson(res, 202, sampleRun({ status: 'running' }));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(
          res,
          200,
          sampleRun({ status: 'failed', attempt: 2, error: { code: 'time_limit', message: 'ran out of time' } }),
        );
      } else notFound(res);
    });
    const env = { AUTOLAB_URL: server.url };
    const status = captureIo();
    expect(await runCli(['status', RUN_ID], { env, io: status.io, clock: { utc: true } })).toBe(0);
    expect(status.stdout()).toContain(`${RUN_ID}  failed (experiments › research)\n`);
    expect(status.stdout()).toContain('  tenant     default\n');
    expect(status.stdout()).toContain(
      '  policy     search: 2 drafts, debug p=0.5 (depth 3), 1 at a time; 3 extra seeds\n' +
        '             ideas: 3, 1 reflection; review: 3 reviewers; 8 pages\n',
    );
    expect(status.stdout()).toContain('  best       ece = 0.0412 (minimize; node n003, iteration 3)\n');
    expect(status.stdout()).toContain('  cost       $0.4321 (12 calls, 34,000 tokens) of $5.00 budget\n');
    expect(status.stdout()).toContain('  attempts   2 (resumed after an interruption)\n');
    expect(status.stdout()).toContain('  error      time_limit: ran out of time\n');

    const cancel = captureIo();
    expect(await runCli(['cancel', RUN_ID], { env, io: cancel.io })).toBe(0);
    expect(cancel.stdout()).toBe(`${RUN_ID}: cancellation requested (status now running)\n`);
  });

  it('submit --watch follows the new run and exits with its outcome', async () => {
    const events = sampleEvents();
    server = await startStubServer((request, res) => {
      if (request.method === 'POST' && request.url === '/v1/runs') {
        sendJson(res, 202, sampleRun({ status: 'queued' }));
      } else if (request.url === `/v1/runs/${RUN_ID}/events`) {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.end(events.map((e) => `id: ${e.id}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun({ status: 'cancelled' }));
      } else notFound(res);
    });
    const { io, stdout } = captureIo();
    const last = events.at(-1)!;
    events[events.length - 1] = { ...last, data: { ...last.data, status: 'cancelled' } } as typeof last;
    const code = await runCli(['submit', 'Does label smoothing help?', '--watch'], {
      env: { AUTOLAB_URL: server.url },
      io,
      clock: { utc: true },
    });
    expect(code).toBe(1);
    const lines = stdout().trimEnd().split('\n');
    expect(lines[0]).toBe(RUN_ID);
    expect(lines).toContain('12:00:31 run.finished   cancelled ($0.4321, 12 model calls)');
    expect(lines.at(-1)).toMatch(new RegExp(`^${RUN_ID} cancelled: 3/6 iterations`));
  });
});
