import type { ApiKeyStore } from '@autolab/store';
import Fastify, { type FastifyInstance } from 'fastify';
import { describe, expect, it } from 'vitest';
import { ACCESS, type AdminSessions, authPlugin, KeyResolver, withAccess } from './auth.js';

/** The access rules as a mechanism, on a bare Fastify with fake key storage (no Redis involved). */
async function appWith(register: (app: ReturnType<typeof Fastify>) => void) {
  const app = Fastify();
  const keys = { verify: async () => null, get: async () => null } as unknown as ApiKeyStore;
  await app.register(authPlugin, {
    enabled: true,
    sessions: { keyIdOf: async () => null } as unknown as AdminSessions,
    unroutedLimit: null,
    resolver: new KeyResolver(keys, 'bootstrap-admin-key-for-unit-tests'),
  });
  register(app);
  return app;
}

describe('route access rules', () => {
  it('refuse to start an app with a route that declares none, naming it', async () => {
    const app = await appWith((a) => {
      a.get('/v1/ok', { config: { access: ACCESS.read } }, async () => 'ok');
      a.get('/v1/forgotten', async () => 'open by mistake');
    });
    await expect(app.ready()).rejects.toThrow(/GET \/v1\/forgotten/);
  });

  it('give the routes of a mounted plugin the mount’s rule, and keep a rule a route declares itself', async () => {
    const app = await appWith((a) => {
      a.register(
        withAccess(ACCESS.adminUi, async (inner: FastifyInstance) => {
          inner.get('/ui', async () => 'ui');
          inner.get('/ui/open', { config: { access: ACCESS.public } }, async () => 'open');
        }),
        { prefix: '/admin' },
      );
    });
    await app.ready();
    const rows = app.routeAccessTable();
    expect(rows.find((r) => r.url === '/admin/ui' && r.method === 'GET')?.access).toEqual(ACCESS.adminUi);
    expect(rows.find((r) => r.url === '/admin/ui/open')?.access).toEqual(ACCESS.public);
    expect(rows.some((r) => r.method === 'HEAD' && r.url === '/admin/ui')).toBe(true);
    expect(rows.every((r) => r.access !== null)).toBe(true);
    expect((await app.inject({ url: '/admin/ui' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'HEAD', url: '/admin/ui' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/admin/ui/open' })).statusCode).toBe(200);
  });

  it('decide on the route the router chose, not on the URL string', async () => {
    const app = await appWith((a) => {
      a.get('/v1/admin/keys', { config: { access: ACCESS.admin } }, async () => 'keys');
    });
    await app.ready();
    for (const url of ['/v1/admin/keys', '/%761/admin/keys', '/v1/%61dmin/keys', '/v1/admin/%6b%65%79%73']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(401);
    }
    const admin = await app.inject({
      url: '/%761/admin/keys',
      headers: { authorization: 'Bearer bootstrap-admin-key-for-unit-tests' },
    });
    expect(admin.statusCode).toBe(200);
    // A path that reaches no route needs a key too: nothing is open by omission.
    expect((await app.inject({ url: '/V1/admin/keys' })).statusCode).toBe(401);
  });
});
