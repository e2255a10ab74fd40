import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiProcess, startApiProcess } from '../api-process.js';
import { untar } from '../test-resources.js';

/**
 * Item 4 of issue 7: files change while an archive of them is being streamed (the worker appends to transcript.jsonl
 * after every model call; a rerun replaces files). The API runs as its own process, so a stream error that escapes
 * its request shows up as a dead process, as it would in production.
 */
let api: ApiProcess;
let key: string;
let runId: string;
let runDir: string;

beforeAll(async () => {
  api = await startApiProcess();
  key = await api.createKey('archive-race');
  const res = await fetch(`${api.url}/v1/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ goal: 'A run whose files change while they are downloaded.' }),
  });
  expect(res.status).toBe(202);
  runId = ((await res.json()) as { id: string }).id;
  runDir = join(api.dataDir, 'artifacts', runId);
  await mkdir(join(runDir, 'paper'), { recursive: true });
  await mkdir(join(runDir, 'nodes', 'n001'), { recursive: true });
  // Big enough that reading it takes a while, so appends land between the size being recorded and the read's end.
  const line = `${JSON.stringify({ role: 'assistant', content: 'x'.repeat(4000) })}\n`;
  await writeFile(join(runDir, 'transcript.jsonl'), line.repeat(1500));
  await writeFile(join(runDir, 'paper', 'paper.tex'), '\\documentclass{article}\\begin{document}Hi\\end{document}');
  await writeFile(join(runDir, 'nodes', 'n001', 'stdout.txt'), 'loss 0.5\n'.repeat(50_000));
  await writeFile(join(runDir, 'empty.txt'), '');
}, 90_000);

afterAll(async () => {
  await api?.stop();
});

describe('the archive while its files change', () => {
  it('stays whole, and the API stays up, while a file grows and another is replaced during 40 archive and 20 file downloads', async () => {
    let writing = true;
    let appends = 0;
    let replacements = 0;
    const line = `${JSON.stringify({ role: 'user', content: 'y'.repeat(2000) })}\n`;
    const appender = (async () => {
      while (writing) {
        await appendFile(join(runDir, 'transcript.jsonl'), line);
        appends++;
      }
    })();
    // As the artifact store's put() does: write a temporary file, rename it over the old one.
    const replacer = (async () => {
      while (writing) {
        const target = join(runDir, 'nodes', 'n001', 'stdout.txt');
        await writeFile(`${target}.tmp.partial`, `loss ${replacements}\n`.repeat(1000 + (replacements % 7) * 20_000));
        await rename(`${target}.tmp.partial`, target);
        replacements++;
        await new Promise((r) => setTimeout(r, 2));
      }
    })();

    const outcomes: string[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        // Two at a time, so that one download's trouble would also hit another request in flight.
        await Promise.all(
          [0, 1].map(async () => {
            try {
              const res = await fetch(`${api.url}/v1/runs/${runId}/archive?subset=all`, {
                headers: { authorization: `Bearer ${key}` },
              });
              const files = untar(gunzipSync(Buffer.from(await res.arrayBuffer())));
              const transcript = files.get(`${runId}/transcript.jsonl`)!;
              const stdout = files.get(`${runId}/nodes/n001/stdout.txt`)!.toString('utf8');
              // Each file is a consistent snapshot: whole lines only, one version of the replaced file.
              const ok =
                res.status === 200 &&
                transcript.length >= 1500 * 4000 &&
                endsInLinePrefix(transcript, line) &&
                new Set(stdout.trim().split('\n')).size === 1 &&
                files.get(`${runId}/empty.txt`)?.length === 0 &&
                files.get(`${runId}/paper/paper.tex`)?.toString('utf8').includes('documentclass') === true;
              outcomes.push(ok ? 'whole' : `bad: ${res.status}`);
            } catch (err) {
              outcomes.push(`failed: ${(err as Error).message}`);
            }
          }),
        );
        // The single-file download of the growing file: exactly the announced length, whole lines.
        const single = await fetch(`${api.url}/v1/runs/${runId}/artifacts/transcript.jsonl`, {
          headers: { authorization: `Bearer ${key}` },
        }).then(
          async (res) => {
            const body = Buffer.from(await res.arrayBuffer());
            const whole = body.length === Number(res.headers.get('content-length')) && endsInLinePrefix(body, line);
            return whole ? 'whole' : `bad single file: ${body.length} of ${res.headers.get('content-length')}`;
          },
          (err: Error) => `failed single file: ${err.message}`,
        );
        outcomes.push(single);
        if (!api.alive()) break;
      }
    } finally {
      writing = false;
      await Promise.all([appender, replacer]);
    }

    const log = await readFile(api.logFile, 'utf8');
    expect(api.alive(), `the API process exited; its log:\n${log.slice(-3000)}`).toBe(true);
    expect(appends).toBeGreaterThan(100);
    expect(replacements).toBeGreaterThan(10);
    expect(outcomes.filter((o) => o !== 'whole')).toEqual([]);
    expect(outcomes).toHaveLength(60);
    // …and it still answers.
    const health = await fetch(`${api.url}/healthz`);
    expect([200, 503]).toContain(health.status);
    const run = await fetch(`${api.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${key}` } });
    expect(run.status).toBe(200);
  }, 180_000);

  it('aborts only its own response when a file shrinks under it (the process stays up, the log says why)', async () => {
    // Cut in place (not replaced): the open handle sees the shorter file, so the recorded size cannot be delivered.
    const big = join(runDir, 'zz-big.bin');
    await writeFile(big, randomBytes(48 * 1024 * 1024));
    const other = fetch(`${api.url}/v1/runs/${runId}/archive?subset=paper`, {
      headers: { authorization: `Bearer ${key}` },
    });
    const res = await fetch(`${api.url}/v1/runs/${runId}/archive?subset=all`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    let received = 0;
    // The server cannot be far ahead of this reader (back-pressure), so it is still inside the big file.
    while (received < 12 * 1024 * 1024) received += (await reader.read()).value?.length ?? 0;
    await truncate(big, 1024);
    const rest = (async () => {
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return 'ended';
        received += chunk.value.length;
      }
    })();
    await expect(rest).rejects.toThrow();
    // The request next to it is untouched, and the API goes on answering.
    const paper = untar(gunzipSync(Buffer.from(await (await other).arrayBuffer())));
    expect([...paper.keys()]).toEqual([`${runId}/paper/paper.tex`]);
    expect(api.alive()).toBe(true);
    expect((await fetch(`${api.url}/v1/runs/${runId}`, { headers: { authorization: `Bearer ${key}` } })).status).toBe(
      200,
    );
    await new Promise((r) => setTimeout(r, 200));
    const lines = (await readFile(api.logFile, 'utf8')).split('\n').filter((l) => l.includes('Size mismatch'));
    expect(lines).toHaveLength(1);
    await rm(big);
  }, 120_000);
});

/**
 * A snapshot of a file being appended to: whole lines, then at most the beginning of the line being written. (A write
 * that crosses a page boundary can be seen half done by the size a reader takes, so a snapshot may end mid-line;
 * what it must never hold is bytes that were not written, or a size that disagrees with its content.)
 */
function endsInLinePrefix(content: Buffer, line: string): boolean {
  const tail = content.subarray(content.lastIndexOf(0x0a) + 1).toString('utf8');
  return line.startsWith(tail);
}
