import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { UsageError } from '../errors.js';
import { RUN_ID } from '../testing/samples.js';
import { captureIo, notFound, type StubServer, startStubServer } from '../testing/stub-server.js';
import { normalizeNodeId } from './logs.js';

const STDOUT = 'epoch 1 loss 0.9\n\x1b[2Jepoch 2 loss 0.5\n';
const STDERR = 'warning: slow';

let server: StubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function artifactServer(files: Record<string, string>) {
  return startStubServer((request, res) => {
    const prefix = `/v1/runs/${RUN_ID}/artifacts/`;
    if (!request.url.startsWith(prefix)) return notFound(res, 'run_not_found', 'There is no such run.');
    const text = files[request.url.slice(prefix.length)];
    if (text === undefined) return notFound(res, 'artifact_not_found', 'No such file.');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(text);
  });
}

describe('autolab logs', () => {
  it('prints both streams of a node with headers, or one stream as it is', async () => {
    server = await artifactServer({ 'nodes/n003/stdout.txt': STDOUT, 'nodes/n003/stderr.txt': STDERR });
    const env = { AUTOLAB_URL: server.url };
    const both = captureIo();
    expect(await runCli(['logs', RUN_ID, 'n003'], { env, io: both.io })).toBe(0);
    expect(both.stdout()).toBe(`==> nodes/n003/stdout.txt <==\n${STDOUT}==> nodes/n003/stderr.txt <==\n${STDERR}\n`);
    expect(server.requests.map((r) => r.url)).toEqual([
      `/v1/runs/${RUN_ID}/artifacts/nodes/n003/stdout.txt`,
      `/v1/runs/${RUN_ID}/artifacts/nodes/n003/stderr.txt`,
    ]);

    const piped = captureIo();
    expect(await runCli(['logs', RUN_ID, '3', '--stream', 'stdout'], { env, io: piped.io })).toBe(0);
    expect(piped.stdout()).toBe(STDOUT); // piped: unchanged, escape sequences and all

    const terminal = captureIo('', { stdoutColumns: 80 });
    expect(await runCli(['logs', RUN_ID, 'n003', '--stream=stdout'], { env, io: terminal.io })).toBe(0);
    expect(terminal.stdout()).toBe('epoch 1 loss 0.9\nepoch 2 loss 0.5\n'); // on a terminal: no escapes

    const json = captureIo();
    expect(await runCli(['logs', RUN_ID, 'n003', '--stream', 'stderr', '--json'], { env, io: json.io })).toBe(0);
    expect(JSON.parse(json.stdout())).toEqual({ runId: RUN_ID, nodeId: 'n003', stderr: STDERR });
  });

  it('says which stream is missing, and fails clearly when the node has no output at all', async () => {
    server = await artifactServer({ 'nodes/n001/stdout.txt': '' });
    const env = { AUTOLAB_URL: server.url };
    const partial = captureIo();
    expect(await runCli(['logs', RUN_ID, 'n001'], { env, io: partial.io })).toBe(0);
    expect(partial.stdout()).toBe(
      '==> nodes/n001/stdout.txt <==\n(empty)\n==> nodes/n001/stderr.txt <==\n(no stderr.txt)\n',
    );

    const none = captureIo();
    expect(await runCli(['logs', RUN_ID, 'n009', '--stream', 'stderr'], { env, io: none.io })).toBe(4);
    expect(none.stderr()).toBe(
      `autolab: artifact_not_found: no output of node n009 in ${RUN_ID}: the node does not exist or has not ` +
        'finished yet (autolab watch shows output live)\n',
    );

    const unknownRun = captureIo();
    const other = 'run_01jzzzzzzzzzzzzzzzzzzzzzzz';
    expect(await runCli(['logs', other, 'n001'], { env, io: unknownRun.io })).toBe(4);
    expect(unknownRun.stderr()).toBe('autolab: run_not_found: There is no such run.\n');
  });

  it('takes n003 or 3, refuses anything that could leave the node directory, and knows its streams', async () => {
    expect(normalizeNodeId('n003')).toBe('n003');
    expect(normalizeNodeId('7')).toBe('n007');
    expect(normalizeNodeId('123')).toBe('n123');
    for (const bad of ['../x', 'n001/..', '', '.hidden', 'a b']) expect(() => normalizeNodeId(bad)).toThrow(UsageError);
    const { io, stderr } = captureIo();
    expect(await runCli(['logs', RUN_ID, 'n001', '--stream', 'all'], { env: {}, io })).toBe(2);
    expect(stderr()).toMatch(/--stream/);
  });
});
