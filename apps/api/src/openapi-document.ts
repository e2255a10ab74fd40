import { RedisKeys, UploadStore } from '@autolab/store';
import { TemplateCatalog } from '@autolab/templates';
import type { Redis } from 'ioredis';
import type { ApiDeps } from './app.js';
import { buildApp } from './app.js';
import { loadApiConfig } from './env.js';
import { DEFAULT_TIMEOUTS } from './http-timeouts.js';

/**
 * The OpenAPI document, built from the route schemas without connecting to anything: handlers are never called,
 * so the app gets inert dependencies. Used to generate the typed client and by the tests.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const inert = new Proxy({}, { get: () => undefined }) as ApiDeps;
  const app = await buildApp({
    ...inert,
    // Its routes read the limits while registering (to configure the multipart parser).
    uploads: new UploadStore(
      inert as unknown as Redis,
      new RedisKeys('openapi'),
      '/nonexistent',
      loadApiConfig({}).uploadLimits,
    ),
    templates: await TemplateCatalog.load(),
    authEnabled: true,
    adminKey: null,
    rateLimit: null,
    tenantMaxActiveRuns: 5,
    models: { model: 'gpt-4o-mini', roles: {} },
    prices: {},
    sandboxImages: [],
    heartbeatMs: 15_000,
    timeouts: DEFAULT_TIMEOUTS,
  });
  await app.ready();
  const document = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return document;
}
