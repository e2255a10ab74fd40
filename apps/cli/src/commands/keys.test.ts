import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli.js';
import { captureIo, notFound, type StubServer, sendJson, startStubServer } from '../testing/stub-server.js';

const KEY_ID = 'key_01jabcdefghjkmnpqrstvwxyz0';
const CREATED = {
  id: KEY_ID,
  key: 'alk_0123456789abcdefghijABCDEFGHIJ01',
  tenant: 'acme',
  name: 'ci',
  admin: false,
  scopes: ['runs:read', 'runs:write'],
  createdAt: '2025-01-02T12:00:00.000Z',
  expiresAt: null,
};

let server: StubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A stub of the admin routes that wants the admin key, and knows one other (non-admin) key. */
async function adminServer() {
  const keys = [
    {
      id: 'key_00',
      tenant: 'ops',
      name: null,
      admin: true,
      scopes: ['runs:read', 'runs:write', 'admin'],
      createdAt: '2025-01-01T09:00:00.000Z',
      expiresAt: '2025-02-01T09:00:00.000Z',
      revokedAt: null,
    },
    { ...CREATED, key: undefined, revokedAt: '2025-01-02T12:30:00.000Z' },
  ];
  return startStubServer((request, res) => {
    const auth = request.headers.authorization;
    if (!request.url.startsWith('/v1/admin/keys')) return notFound(res);
    if (!auth) return sendJson(res, 401, { error: { code: 'unauthorized', message: 'An API key is required.' } });
    if (auth === 'Bearer wrong')
      return sendJson(res, 401, { error: { code: 'unauthorized', message: 'Unknown API key.' } });
    if (auth !== 'Bearer admin') return sendJson(res, 403, { error: { code: 'forbidden', message: 'Admins only.' } });
    if (request.method === 'POST' && request.url === '/v1/admin/keys') {
      const body = JSON.parse(request.body);
      const scopes = body.scopes ?? (body.admin ? ['runs:read', 'runs:write', 'admin'] : CREATED.scopes);
      return sendJson(res, 201, { ...CREATED, ...body, scopes, admin: scopes.includes('admin') });
    }
    if (request.method === 'GET' && request.url === '/v1/admin/keys') return sendJson(res, 200, { keys });
    if (request.method === 'DELETE' && request.url === `/v1/admin/keys/${KEY_ID}`) {
      res.writeHead(204).end();
      return;
    }
    return notFound(res, 'key_not_found', 'No such key.');
  });
}

describe('autolab keys', () => {
  it('create prints the key alone on stdout, and once, with the warning on stderr', async () => {
    server = await adminServer();
    const env = { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'admin' };
    const { io, stdout, stderr } = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'acme', '--name', 'ci'], { env, io })).toBe(0);
    expect(JSON.parse(server.requests[0]!.body)).toEqual({ tenant: 'acme', name: 'ci' });
    expect(stdout()).toBe(`${CREATED.key}\n`);
    expect(stderr()).toBe(
      `created key ${KEY_ID} (tenant acme, name ci, scopes runs:read,runs:write):\n` +
        'autolab: this is the only time the key is shown; store it now (use it as AUTOLAB_API_KEY=<key>)\n',
    );

    const admin = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'ops', '--admin', '--json'], { env, io: admin.io })).toBe(0);
    expect(JSON.parse(server.requests[1]!.body)).toEqual({ tenant: 'ops', admin: true });
    expect(JSON.parse(admin.stdout())).toMatchObject({ id: KEY_ID, key: CREATED.key, tenant: 'ops', admin: true });
    expect(admin.stderr()).toBe('autolab: the key is not shown again: store it now\n');

    // A read-only key that expires: what a wall dashboard or a CI job that downloads papers gets.
    const reader = captureIo();
    const now = Date.now();
    const args = ['keys', 'create', '--tenant', 'acme', '--scope', 'runs:read', '--expires', '30d'];
    expect(await runCli(args, { env, io: reader.io, clock: { utc: true } })).toBe(0);
    const sent = JSON.parse(server.requests[2]!.body);
    expect(sent).toMatchObject({ tenant: 'acme', scopes: ['runs:read'] });
    expect(Math.abs(Date.parse(sent.expiresAt) - (now + 30 * 86_400_000))).toBeLessThan(60_000);
    expect(reader.stderr()).toMatch(
      /^created key key_\w+ \(tenant acme, name ci, scopes runs:read, expires \d{4}-\d\d-\d\d \d\d:\d\d\):/,
    );
  });

  it('refuses unknown scopes and unreadable expiry dates before calling the server', async () => {
    const scope = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'a', '--scope', 'runs:delete'], { env: {}, io: scope.io })).toBe(
      2,
    );
    expect(scope.stderr()).toMatch(/^autolab: --scope: /);
    const expires = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'a', '--expires', 'soon'], { env: {}, io: expires.io })).toBe(2);
    expect(expires.stderr()).toMatch(/^autolab: --expires: not a duration/);
    const past = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'a', '--expires', '2001-01-01'], { env: {}, io: past.io })).toBe(
      2,
    );
    expect(past.stderr()).toMatch(/^autolab: --expires: must be in the future/);
  });

  it('list shows a table (or the JSON as sent); revoke deletes', async () => {
    server = await adminServer();
    const env = { AUTOLAB_URL: server.url, AUTOLAB_API_KEY: 'admin' };
    const list = captureIo();
    expect(await runCli(['keys', 'list'], { env, io: list.io, clock: { utc: true } })).toBe(0);
    expect(list.stdout().split('\n')).toEqual([
      `${'ID'.padEnd(KEY_ID.length)}  TENANT  SCOPES                      CREATED           EXPIRES           REVOKED           NAME`,
      `${'key_00'.padEnd(KEY_ID.length)}  ops     runs:read,runs:write,admin  2025-01-01 09:00  2025-02-01 09:00  -                 -`,
      `${KEY_ID}  acme    runs:read,runs:write        2025-01-02 12:00  -                 2025-01-02 12:30  ci`,
      '',
    ]);
    const json = captureIo();
    expect(await runCli(['keys', 'list', '--json'], { env, io: json.io })).toBe(0);
    expect(JSON.parse(json.stdout()).keys[1]).toEqual({
      ...CREATED,
      key: undefined,
      revokedAt: '2025-01-02T12:30:00.000Z',
    });

    const revoke = captureIo();
    expect(await runCli(['keys', 'revoke', KEY_ID], { env, io: revoke.io })).toBe(0);
    expect(revoke.stdout()).toBe(`revoked key ${KEY_ID}\n`);
    expect(server.requests.at(-1)).toMatchObject({ method: 'DELETE', url: `/v1/admin/keys/${KEY_ID}` });

    const missing = captureIo();
    expect(await runCli(['keys', 'revoke', 'key_99'], { env, io: missing.io })).toBe(4);
    expect(missing.stderr()).toBe('autolab: key_not_found: No such key.\n');
  });

  it('says what to do about a missing, wrong or non-admin key (exit 4)', async () => {
    server = await adminServer();
    const run = async (key: string | undefined) => {
      const { io, stderr } = captureIo();
      const env: Record<string, string> = { AUTOLAB_URL: server!.url };
      if (key) env.AUTOLAB_API_KEY = key;
      return { code: await runCli(['keys', 'list'], { env, io }), stderr: stderr() };
    };
    expect(await run(undefined)).toEqual({
      code: 4,
      stderr:
        'autolab: unauthorized: An API key is required.\n' +
        '  this server needs an API key: set AUTOLAB_API_KEY (an admin creates one with `autolab keys create --tenant NAME`)\n',
    });
    expect(await run('wrong')).toEqual({
      code: 4,
      stderr:
        'autolab: unauthorized: Unknown API key.\n' +
        '  the server did not accept the key in AUTOLAB_API_KEY (revoked or mistyped?)\n',
    });
    expect(await run('tenant-key')).toEqual({
      code: 4,
      stderr:
        'autolab: forbidden: Admins only.\n' +
        '  the key in AUTOLAB_API_KEY is not allowed to do this (the keys commands need an admin key)\n',
    });
  });

  it('needs a valid --tenant for create, and refuses an answer without the key', async () => {
    const usage = captureIo();
    expect(await runCli(['keys', 'create'], { env: {}, io: usage.io })).toBe(2);
    expect(usage.stderr()).toMatch(/--tenant/);
    const badTenant = captureIo();
    expect(await runCli(['keys', 'create', '--tenant', 'Not A Tenant'], { env: {}, io: badTenant.io })).toBe(2);
    expect(badTenant.stderr()).toMatch(/^autolab: --tenant: tenants are 1-63 lower-case letters/);

    server = await startStubServer((_request, res) => sendJson(res, 201, { ...CREATED, key: undefined }));
    const { io, stdout, stderr } = captureIo();
    const code = await runCli(['keys', 'create', '--tenant', 'a'], { env: { AUTOLAB_URL: server.url }, io });
    expect(code).toBe(3);
    expect(stdout()).toBe('');
    expect(stderr()).toMatch(/answered in an unexpected shape/);
  });
});
