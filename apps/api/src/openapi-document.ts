import type { ApiDeps } from './app.js';
import { buildApp } from './app.js';

/**
 * The OpenAPI document, built from the route schemas without connecting to anything: handlers are never called,
 * so the app gets inert dependencies. Used to generate the typed client and by the tests.
 */
export async function openApiDocument(): Promise<Record<string, unknown>> {
  const inert = new Proxy({}, { get: () => undefined }) as ApiDeps;
  const app = await buildApp({
    ...inert,
    authEnabled: true,
    adminKey: null,
    rateLimiter: null,
    tenantMaxActiveRuns: 5,
    defaultModel: 'gpt-4o-mini',
    heartbeatMs: 15_000,
  });
  await app.ready();
  const document = app.swagger() as unknown as Record<string, unknown>;
  await app.close();
  return document;
}
