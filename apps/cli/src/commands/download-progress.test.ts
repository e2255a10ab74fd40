import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar-stream';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { SPINNER_FRAMES } from '../terminal/ansi.js';
import { RUN_ID, sampleRun } from '../testing/samples.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';
import { emulateTerminal } from '../testing/terminal-emulator.js';

let server: StubServer | undefined;
const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'autolab-progress-'));
  dirs.push(dir);
  return dir;
};
afterEach(async () => {
  await server?.close();
  server = undefined;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function codeArchive(): Promise<Buffer> {
  const pack = tar.pack();
  pack.entry({ name: `${RUN_ID}/best/experiment.py` }, 'print(1)\n'.repeat(5000));
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const chunk of pack) chunks.push(chunk as Buffer);
  return gzipSync(Buffer.concat(chunks), { level: 0 });
}

/** Sends `body` in a few pieces with pauses, so progress has something to show. */
async function trickle(res: import('node:http').ServerResponse, body: Buffer, pieces = 4, stallAfter?: number) {
  const size = Math.ceil(body.length / pieces);
  for (let i = 0; i < pieces; i++) {
    if (stallAfter !== undefined && i === stallAfter) return; // never finishes
    res.write(body.subarray(i * size, (i + 1) * size));
    await new Promise((resolve) => setTimeout(resolve, 60));
  }
  res.end();
}

describe('autolab download progress', () => {
  const pdf = randomBytes(300_000);

  async function serve(options: { stall?: boolean } = {}) {
    const archive = await codeArchive();
    return startStubServer(async (request, res) => {
      const base = `/v1/runs/${RUN_ID}`;
      if (request.url === base) sendJson(res, 200, sampleRun({ status: 'succeeded' }));
      else if (request.url === `${base}/artifacts/paper/paper.pdf`) {
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': pdf.length });
        await trickle(res, pdf, 4, options.stall ? 2 : undefined);
      } else if (request.url === `${base}/artifacts/paper/paper.tex`) {
        res.writeHead(200, { 'content-type': 'application/x-tex', 'content-length': 5 });
        res.end('\\tex\n');
      } else if (request.url === `${base}/archive?subset=code`) {
        res.writeHead(200, { 'content-type': 'application/gzip' }); // chunked: no size known
        await trickle(res, archive);
      } else notFound(res);
    });
  }

  it('on a terminal: a bar with bytes of the total, or a spinner without a size; cleared before each "wrote"', async () => {
    server = await serve();
    const out = await tempDir();
    const { io, stdout, stderr } = captureIo('', { stderrColumns: 100 });
    const code = await runCli(['download', RUN_ID, 'paper', '--out', out], {
      env: { AUTOLAB_URL: server.url, NO_COLOR: '1' },
      io,
      live: { frameIntervalMs: 0 },
    });
    expect(code).toBe(0);
    const err = stderr();
    expect(err).toMatch(/\rpaper\.pdf {2}█+░* {2}\d+\.\d KB \/ 293\.0 KB +\d+%/);
    expect(err).toContain('293.0 KB / 293.0 KB  100%');
    expect(err).toContain('\rpaper.tex  ');
    expect(err).not.toMatch(/\x1b\[[0-9;]*m/); // NO_COLOR
    expect(err.endsWith('\r\x1b[K')).toBe(true);
    expect(emulateTerminal(err, 100)).toEqual(['']); // nothing is left on screen
    expect(stdout()).toBe(`wrote ${join(out, 'paper.pdf')} (293.0 KB)\nwrote ${join(out, 'paper.tex')} (5 B)\n`);

    const archive = captureIo('', { stderrColumns: 100 });
    expect(
      await runCli(['download', RUN_ID, 'code', '--out', out], {
        env: { AUTOLAB_URL: server.url },
        io: archive.io,
        live: { frameIntervalMs: 0 },
      }),
    ).toBe(0);
    const spinnerLine = new RegExp(
      `\\r\\x1b\\[36m[${SPINNER_FRAMES.join('')}]\\x1b\\[39m ${RUN_ID}-code\\.tar\\.gz {2}\\d`,
    );
    expect(archive.stderr()).toMatch(spinnerLine);
    expect(archive.stderr()).not.toContain(' / ');
  });

  it('shows nothing when stderr is not a terminal, or with TERM=dumb', async () => {
    server = await serve();
    for (const [columns, env] of [
      [undefined, {}],
      [100, { TERM: 'dumb' }],
    ] as const) {
      const out = await tempDir();
      const { io, stdout, stderr } = captureIo('', { stderrColumns: columns });
      expect(
        await runCli(['download', RUN_ID, 'paper', '-o', out], { env: { AUTOLAB_URL: server!.url, ...env }, io }),
      ).toBe(0);
      expect(stderr()).toBe('');
      expect(stdout()).toContain('wrote ');
    }
  });

  it('Ctrl-C stops the download, keeps no partial file, and exits 130', async () => {
    server = await serve({ stall: true });
    const out = await tempDir();
    const { io, stderr, interrupt } = captureIo('', { stderrColumns: 80 });
    const downloading = runCli(['download', RUN_ID, 'paper', '--out', out], {
      env: { AUTOLAB_URL: server.url },
      io,
      live: { frameIntervalMs: 0 },
    });
    for (let i = 0; i < 200 && !stderr().includes('KB /'); i++) await new Promise((r) => setTimeout(r, 10));
    expect(interrupt()).toBe(true);
    expect(await downloading).toBe(130);
    expect(await readdir(out)).toEqual([]);
    expect(stderr()).toMatch(/\r\x1b\[Kautolab: interrupted; the file being downloaded was not kept\n$/);
  });
});
