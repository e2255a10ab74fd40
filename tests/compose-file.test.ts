import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker/compose.yaml must work with both Compose v2 and Debian's docker-compose 1.29, whose schema allows only
 * these top-level keys (it rejected `name:`), and may pass only settings the apps read (a renamed or removed variable
 * would be silently ignored in production).
 */
const ROOT = new URL('../', import.meta.url);
const compose = parse(readFileSync(new URL('docker/compose.yaml', ROOT), 'utf8')) as {
  services: Record<string, { environment?: Record<string, unknown> }>;
} & Record<string, unknown>;
const COMPOSE_1_29_TOP_LEVEL = ['version', 'services', 'networks', 'volumes', 'secrets', 'configs'];

describe('docker/compose.yaml', () => {
  it('has only the top-level keys docker-compose 1.29 accepts', () => {
    const unknown = Object.keys(compose).filter(
      (key) => !key.startsWith('x-') && !COMPOSE_1_29_TOP_LEVEL.includes(key),
    );
    expect(unknown).toEqual([]);
  });

  it.each([
    ['api', 'apps/api/src/env.ts'],
    ['worker', 'apps/worker/src/env.ts'],
  ])('passes the %s only variables its env.ts reads', (service, envFile) => {
    // The artifact store's settings (AUTOLAB_ARTIFACTS_URL, AUTOLAB_S3_*) are declared once for both apps.
    const source = [envFile, 'packages/store/src/artifact-store-config.ts']
      .map((file) => readFileSync(new URL(file, ROOT), 'utf8'))
      .join('\n');
    const passed = Object.keys(compose.services[service]?.environment ?? {});
    expect(passed.length).toBeGreaterThan(5);
    const unread = passed.filter((name) => !new RegExp(`\\b${name}:`).test(source));
    expect(unread).toEqual([]);
  });
});
