import { retryAfterSeconds } from '@autolab/api-client';
import { CommanderError } from 'commander';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { ApiError, InterruptedError, ProtocolError, UnreachableError, UsageError } from './errors.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { RUN_ID } from './testing/samples.js';
import { captureIo, type StubServer, sendJson, startStubServer } from './testing/stub-server.js';

describe('exitCodeFor', () => {
  it('maps each kind of failure to its documented code', () => {
    expect(exitCodeFor(new UsageError('bad'))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new CommanderError(1, 'commander.unknownOption', 'unknown option'))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'))).toBe(ExitCode.Ok);
    expect(exitCodeFor(new ApiError(404, 'run_not_found', 'no such run'))).toBe(ExitCode.Rejected);
    expect(exitCodeFor(new ApiError(400, 'validation_failed', 'goal too short'))).toBe(ExitCode.Rejected);
    expect(exitCodeFor(new ApiError(409, 'run_finished', 'already finished'))).toBe(ExitCode.Rejected);
    expect(exitCodeFor(new ApiError(500, 'internal', 'boom'))).toBe(ExitCode.Unavailable);
    expect(exitCodeFor(new ApiError(503, 'unavailable', 'later'))).toBe(ExitCode.Unavailable);
    expect(exitCodeFor(new UnreachableError('ECONNREFUSED'))).toBe(ExitCode.Unavailable);
    expect(exitCodeFor(new ProtocolError('not JSON'))).toBe(ExitCode.Unavailable);
    expect(exitCodeFor(new Error('EACCES: permission denied'))).toBe(ExitCode.RunFailed);
    expect(exitCodeFor(new ApiError(401, 'unauthorized', 'no key'))).toBe(ExitCode.Rejected);
    expect(exitCodeFor(new ApiError(403, 'forbidden', 'not admin'))).toBe(ExitCode.Rejected);
    expect(exitCodeFor(new ApiError(429, 'rate_limited', 'slow down', undefined, 12))).toBe(ExitCode.RateLimited);
    expect(exitCodeFor(new InterruptedError())).toBe(ExitCode.Interrupted);
  });

  it('reads Retry-After as seconds or as a date, else from the error details', () => {
    const now = Date.parse('2025-01-02T12:00:00.000Z');
    expect(retryAfterSeconds('30', undefined, now)).toBe(30);
    expect(retryAfterSeconds('Thu, 02 Jan 2025 12:00:09 GMT', undefined, now)).toBe(9);
    expect(retryAfterSeconds('Thu, 02 Jan 2025 11:00:00 GMT', undefined, now)).toBe(0);
    expect(
      retryAfterSeconds(null, { error: { code: 'rate_limited', message: 'm', details: { retryAfterSeconds: 4.2 } } }),
    ).toBe(5);
    expect(retryAfterSeconds('soon', {})).toBeNull();
    expect(retryAfterSeconds(null)).toBeNull();
  });
});

describe('runCli exit codes and error output', () => {
  let server: StubServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  const run = async (argv: string[], env: Record<string, string>) => {
    const { io, stdout, stderr } = captureIo();
    const code = await runCli(argv, { env, io });
    return { code, stdout: stdout(), stderr: stderr() };
  };

  it('prints the API error as "code: message" without a stack trace', async () => {
    server = await startStubServer((request, res) => {
      if (request.url.endsWith('/cancel')) sendJson(res, 409, { error: { code: 'run_finished', message: 'too late' } });
      else if (request.url.startsWith('/v1/runs?'))
        sendJson(res, 500, { error: { code: 'internal', message: 'boom' } });
      else if (request.url === '/v1/runs') res.writeHead(502).end('<html>Bad Gateway</html>');
      else if (request.url === `/v1/runs/${RUN_ID}`) sendJson(res, 200, { id: RUN_ID });
      else sendJson(res, 404, { error: { code: 'run_not_found', message: 'no run with that id' } });
    });
    const env = { AUTOLAB_URL: server.url };

    expect(await run(['status', 'run_01jzzzzzzzzzzzzzzzzzzzzzzz'], env)).toEqual({
      code: 4,
      stdout: '',
      stderr: 'autolab: run_not_found: no run with that id\n',
    });
    expect(await run(['cancel', RUN_ID], env)).toMatchObject({ code: 4, stderr: 'autolab: run_finished: too late\n' });
    expect(await run(['list', '--limit', '5'], env)).toMatchObject({ code: 3, stderr: 'autolab: internal: boom\n' });
    expect(await run(['list'], env)).toMatchObject({
      code: 3,
      stderr: 'autolab: http_502: <html>Bad Gateway</html>\n',
    });
    const malformed = await run(['status', RUN_ID], env);
    expect(malformed.code).toBe(3);
    expect(malformed.stderr).toMatch(/^autolab: .* answered in an unexpected shape/);
    expect(malformed.stderr).not.toMatch(/\n\s+at /);

    const debug = await run(['status', RUN_ID], { ...env, AUTOLAB_DEBUG: '1' });
    expect(debug.code).toBe(3);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it('exits 5 on 429 with the time to wait, and explains a 401', async () => {
    server = await startStubServer((request, res) => {
      if (request.headers.authorization === undefined) {
        sendJson(res, 401, { error: { code: 'unauthorized', message: 'An API key is required.' } });
      } else if (request.url.startsWith('/v1/runs?')) {
        res.setHeader('retry-after', '17');
        sendJson(res, 429, { error: { code: 'rate_limited', message: 'Too many requests.' } });
      } else {
        res.writeHead(429, { 'content-type': 'text/plain' }).end('slow down');
      }
    });
    const limited = await run(['list', '--limit', '3'], { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'k' });
    expect(limited).toEqual({
      code: 5,
      stdout: '',
      stderr: 'autolab: rate limited, retry after 17 s (rate_limited: Too many requests.)\n',
    });
    const bare = await run(['status', RUN_ID], { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'k' });
    expect(bare).toMatchObject({ code: 5, stderr: 'autolab: rate limited, retry later (http_429: slow down)\n' });
    const anonymous = await run(['list'], { AUTOLAB_URL: server.url });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toMatch(
      /^autolab: unauthorized: An API key is required\.\n {2}this server needs an API key: set AUTOLAB_API_KEY/,
    );
  });

  it('exits 3 when nothing listens at AUTOLAB_URL', async () => {
    const closed = await startStubServer(() => undefined);
    await closed.close();
    const result = await run(['list'], { AUTOLAB_URL: closed.url });
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(`autolab: cannot reach ${closed.url}/ (ECONNREFUSED)\n`);
  });

  it('exits 2 for usage errors and 0 for help', async () => {
    expect((await run(['nonsense'], {})).code).toBe(2);
    expect((await run([], {})).code).toBe(2);
    expect((await run(['status'], {})).code).toBe(2);
    expect((await run(['status', 'not-a-run-id'], {})).code).toBe(2);
    expect((await run(['list'], { AUTOLAB_URL: 'ftp://example.org' })).code).toBe(2);
    const help = await run(['--help'], {});
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Exit codes:');
    expect(help.stdout).toContain('4    request refused: not found, 401/403');
    expect(help.stdout).toContain('5    rate limited (429)');
  });
});
