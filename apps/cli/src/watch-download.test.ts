import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { RunEvent } from '@autolab/contracts';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { EventFormatter } from './event-format.js';
import { RUN_ID, sampleEvents, sampleRun } from './testing/samples.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from './testing/stub-server.js';

const FAST = { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 3, idleTimeoutMs: 5_000 };
const EVENTS_PATH = `/v1/runs/${RUN_ID}/events`;

const wire = (event: RunEvent) => `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

function openStream(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  res.write(': ping\n\n');
}

let server: StubServer | undefined;
const tempDirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'autolab-dl-'));
  tempDirs.push(dir);
  return dir;
};
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(tempDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('autolab watch (against a real HTTP server)', () => {
  it('resumes a dropped stream with Last-Event-ID and prints every event exactly once', async () => {
    const events = sampleEvents();
    const dropAfter = 8; // events delivered whole before the connection breaks, half of the next one with it
    let connections = 0;
    server = await startStubServer((request, res) => {
      if (request.url === EVENTS_PATH) {
        connections++;
        openStream(res);
        if (connections === 1) {
          const head = events.slice(0, dropAfter).map(wire).join('');
          const torn = wire(events[dropAfter]!).slice(0, 40);
          res.write(head + torn, () => res.socket?.destroy());
          return;
        }
        // A sloppy server: it replays from the last id seen inclusive. The CLI must still print that event once.
        const from = events.findIndex((e) => e.id === request.headers['last-event-id']);
        res.end(events.slice(Math.max(from, 0)).map(wire).join(''));
        return;
      }
      if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun({ status: 'succeeded', stage: 'done', iteration: 6 }));
        return;
      }
      notFound(res);
    });

    const { io, stdout, stderr } = captureIo();
    const code = await runCli(['watch', RUN_ID], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: FAST,
      clock: { utc: true },
    });

    expect(stderr()).toMatch(/reconnecting in .* \(attempt 1\/3, resuming after event 1700000000007-0\)/);
    expect(code).toBe(0);
    const streamRequests = server.requests.filter((r) => r.url === EVENTS_PATH);
    expect(streamRequests).toHaveLength(2);
    expect(streamRequests[0]!.headers['last-event-id']).toBeUndefined();
    expect(streamRequests[1]!.headers['last-event-id']).toBe(events[dropAfter - 1]!.id);
    expect(streamRequests[1]!.headers.accept).toBe('text/event-stream');

    const formatter = new EventFormatter({ utc: true });
    const expected = events.flatMap((event) => formatter.format(event));
    const lines = stdout().trimEnd().split('\n');
    expect(lines.slice(0, -1)).toEqual(expected);
    expect(lines.at(-1)).toMatch(new RegExp(`^${RUN_ID} succeeded: 6/6 iterations, best ece=0.0412 \\(n003\\)`));
  });

  it('replaces a connection that goes silent (no events, no heartbeats)', async () => {
    const events = sampleEvents();
    let connections = 0;
    server = await startStubServer((request, res) => {
      if (request.url === EVENTS_PATH) {
        connections++;
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        if (connections === 1)
          res.write(events.slice(0, 3).map(wire).join('')); // then nothing, never closed
        else res.end(events.slice(3).map(wire).join(''));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun({ status: 'succeeded' }));
      } else notFound(res);
    });
    const { io, stdout, stderr } = captureIo();
    const code = await runCli(['watch', RUN_ID, '--json'], {
      env: { AUTOLAB_URL: server.url },
      io,
      follow: { ...FAST, idleTimeoutMs: 300 },
    });
    expect(code).toBe(0);
    expect(stderr()).toMatch(/no data for 0.3s; reconnecting/);
    expect(server.requests.filter((r) => r.url === EVENTS_PATH)[1]!.headers['last-event-id']).toBe(events[2]!.id);
    expect(stdout().trimEnd().split('\n')).toHaveLength(events.length);
  });

  it('with --json prints each event as one JSON line, the outcome on stderr, and exits 1 for a failed run', async () => {
    const events = sampleEvents();
    const last = events.at(-1)!;
    const failed = {
      ...last,
      data: { ...last.data, status: 'failed', error: { code: 'budget_exceeded', message: 'over' } },
    };
    events[events.length - 1] = failed as RunEvent;
    server = await startStubServer((request, res) => {
      if (request.url === EVENTS_PATH) {
        openStream(res);
        res.end(events.map(wire).join(''));
      } else if (request.url === `/v1/runs/${RUN_ID}`) {
        sendJson(res, 200, sampleRun({ status: 'failed', error: { code: 'budget_exceeded', message: 'over' } }));
      } else notFound(res);
    });
    const { io, stdout, stderr } = captureIo();
    const code = await runCli(['watch', RUN_ID, '--json'], { env: { AUTOLAB_URL: server.url }, io, follow: FAST });
    expect(code).toBe(1);
    const printed = stdout()
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    expect(printed).toEqual(events);
    expect(stderr()).toContain(`${RUN_ID} failed (budget_exceeded: over)`);
  });

  it('gives up with exit code 3 when the stream cannot be reopened, and 4 when the run does not exist', async () => {
    server = await startStubServer((request, res) => {
      if (request.url === EVENTS_PATH) sendJson(res, 503, { error: { code: 'unavailable', message: 'restarting' } });
      else notFound(res, 'run_not_found', 'no such run');
    });
    const unavailable = captureIo();
    expect(
      await runCli(['watch', RUN_ID], { env: { AUTOLAB_URL: server.url }, io: unavailable.io, follow: FAST }),
    ).toBe(3);
    expect(server.requests).toHaveLength(FAST.maxAttempts + 1);
    expect(unavailable.stderr()).toMatch(/could not resume it after 3 attempts \(503 unavailable\)/);

    const other = 'run_01jzzzzzzzzzzzzzzzzzzzzzzz';
    const missing = captureIo();
    expect(await runCli(['watch', other], { env: { AUTOLAB_URL: server.url }, io: missing.io, follow: FAST })).toBe(4);
    expect(missing.stderr()).toBe('autolab: run_not_found: no such run\n');
  });
});

async function tarGz(files: Record<string, string | Buffer>): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks));
}

describe('autolab download (against a real HTTP server)', () => {
  const pdf = randomBytes(200_000);
  const tex = '\\documentclass{article}\\begin{document}Hi\\end{document}\n';

  async function serve(options: { paper: boolean; archive?: 'ok' | 'torn' | 'corrupt' }) {
    const code = await tarGz({
      [`${RUN_ID}/best/experiment.py`]: 'print(1)\n',
      [`${RUN_ID}/plan.json`]: '{}',
    });
    const all = await tarGz({
      [`${RUN_ID}/best/experiment.py`]: 'print(1)\n',
      [`${RUN_ID}/plan.json`]: '{}',
      [`${RUN_ID}/paper/paper.pdf`]: pdf,
    });
    return startStubServer((request, res) => {
      const base = `/v1/runs/${RUN_ID}`;
      if (request.url === base) {
        sendJson(res, 200, sampleRun(options.paper ? { status: 'succeeded' } : {}));
      } else if (request.url === `${base}/artifacts/paper/paper.pdf` && options.paper) {
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': pdf.length });
        res.end(pdf);
      } else if (request.url === `${base}/artifacts/paper/paper.tex` && options.paper) {
        res.writeHead(200, { 'content-type': 'application/x-tex' });
        res.end(tex);
      } else if (request.url?.startsWith(`${base}/archive?subset=`)) {
        const body = request.url.endsWith('=code') ? code : all;
        res.writeHead(200, { 'content-type': 'application/gzip' }); // chunked, as a streamed archive is
        if (options.archive === 'torn') res.write(body.subarray(0, body.length / 2), () => res.socket?.destroy());
        else if (options.archive === 'corrupt') res.end(Buffer.from('this is not gzip'));
        else res.end(body);
      } else {
        notFound(res, 'artifact_not_found', `no ${request.url}`);
      }
    });
  }

  it('writes the paper files and both archives, streamed through temporary names', async () => {
    server = await serve({ paper: true });
    const out = join(await tempDir(), 'nested', 'dir');
    const { io, stdout } = captureIo();
    const code = await runCli(['download', RUN_ID, '--out', out], { env: { AUTOLAB_URL: server.url }, io });
    expect(code).toBe(0);
    expect(await readFile(join(out, 'paper.pdf'))).toEqual(pdf);
    expect(await readFile(join(out, 'paper.tex'), 'utf8')).toBe(tex);
    expect((await readdir(out)).sort()).toEqual(
      ['paper.pdf', 'paper.tex', `${RUN_ID}-code.tar.gz`, `${RUN_ID}.tar.gz`].sort(),
    );
    expect(stdout()).toContain(`wrote ${join(out, 'paper.pdf')} (195.3 KB)`);
    expect(stdout()).toMatch(new RegExp(`wrote .*${RUN_ID}-code\\.tar\\.gz \\(.* B, 2 files\\)`));
    expect(stdout()).toMatch(new RegExp(`wrote .*${RUN_ID}\\.tar\\.gz \\(.*, 3 files\\)`));
    const urls = server.requests.map((r) => r.url);
    expect(urls).toContain(`/v1/runs/${RUN_ID}/archive?subset=code`);
    expect(urls).toContain(`/v1/runs/${RUN_ID}/archive?subset=all`);
  });

  it('fetches only what the target needs', async () => {
    server = await serve({ paper: true });
    const out = await tempDir();
    const { io } = captureIo();
    expect(await runCli(['download', RUN_ID, 'code', '-o', out], { env: { AUTOLAB_URL: server.url }, io })).toBe(0);
    expect(await readdir(out)).toEqual([`${RUN_ID}-code.tar.gz`]);
    const paperOut = await tempDir();
    expect(await runCli(['download', RUN_ID, 'paper', '-o', paperOut], { env: { AUTOLAB_URL: server.url }, io })).toBe(
      0,
    );
    expect((await readdir(paperOut)).sort()).toEqual(['paper.pdf', 'paper.tex']);
  });

  it('says clearly when there is no paper yet, still writes the archives, and exits 4', async () => {
    server = await serve({ paper: false });
    const out = await tempDir();
    const { io, stderr } = captureIo();
    const code = await runCli(['download', RUN_ID, 'all', '--out', out], { env: { AUTOLAB_URL: server.url }, io });
    expect(code).toBe(4);
    expect(stderr()).toBe(
      `autolab: artifact_not_found: no paper for ${RUN_ID}: paper/paper.pdf and paper/paper.tex not found; ` +
        'the run is still running (stage experiments); the paper comes at the end\n',
    );
    expect((await readdir(out)).sort()).toEqual([`${RUN_ID}-code.tar.gz`, `${RUN_ID}.tar.gz`].sort());
  });

  it('leaves nothing behind when an archive breaks off or is not an archive', async () => {
    for (const archive of ['torn', 'corrupt'] as const) {
      server = await serve({ paper: true, archive });
      const out = await tempDir();
      const { io, stderr } = captureIo();
      const code = await runCli(['download', RUN_ID, 'code', '--out', out], { env: { AUTOLAB_URL: server.url }, io });
      expect(code, archive).toBe(3);
      expect(await readdir(out), archive).toEqual([]);
      expect(stderr(), archive).toMatch(
        archive === 'torn' ? /download of .*-code\.tar\.gz broke off/ : /is not a complete \.tar\.gz archive/,
      );
      await server.close();
      server = undefined;
    }
  });
});
