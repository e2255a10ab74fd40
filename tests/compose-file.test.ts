import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ArtifactStoreEnv } from '@autolab/store';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

/**
 * docker/compose.yaml must work with both Compose v2 and Debian's docker-compose 1.29, whose schema allows only
 * these top-level keys (it rejected `name:`), and may pass only settings the apps read (a renamed or removed variable
 * would be silently ignored in production). Every Compose CLI installed here validates it (`config`), with and
 * without the `s3` profile.
 */
const ROOT = new URL('../', import.meta.url);
const FILE = fileURLToPath(new URL('docker/compose.yaml', ROOT));
interface Service {
  environment?: Record<string, unknown>;
  profiles?: string[];
  depends_on?: unknown;
}
const compose = parse(readFileSync(FILE, 'utf8')) as { services: Record<string, Service> } & Record<string, unknown>;
const COMPOSE_1_29_TOP_LEVEL = ['version', 'services', 'networks', 'volumes', 'secrets', 'configs'];
const S3_SETTINGS = Object.keys(ArtifactStoreEnv);
// The bundled MinIO's settings, as an operator would give them (docker/README.md).
const S3_PROFILE_ENV = {
  DOCKER_GID: '999',
  AUTOLAB_ARTIFACTS_URL: 's3://autolab/runs',
  AUTOLAB_S3_ENDPOINT: 'http://minio:9000',
  AUTOLAB_S3_ACCESS_KEY_ID: 'autolab',
  AUTOLAB_S3_SECRET_ACCESS_KEY: 'a-minio-password',
};

/** The Compose CLIs on this machine: `docker-compose` (1.29 on Debian) and the `docker compose` plugin (v2). */
async function composeClis(): Promise<string[][]> {
  const found: string[][] = [];
  for (const cli of [['docker-compose'], ['docker', 'compose']]) {
    const ok = await promisify(execFile)(cli[0]!, [...cli.slice(1), 'version']).then(
      () => true,
      () => false,
    );
    if (ok) found.push(cli);
  }
  return found;
}

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

  it('passes every artifact store setting to the api and the workers alike, unset unless the host sets it', () => {
    for (const service of ['api', 'worker']) {
      const environment = compose.services[service]!.environment!;
      for (const name of S3_SETTINGS) expect(environment, `${service} ${name}`).toHaveProperty(name, null);
    }
  });

  it('runs MinIO and its bucket job only with the s3 profile, and nothing depends on them', () => {
    const withProfile = Object.entries(compose.services).filter(([, service]) => service.profiles?.length);
    expect(withProfile.map(([name, service]) => [name, service.profiles])).toEqual([
      ['minio', ['s3']],
      ['minio-bucket', ['s3']],
    ]);
    // A service without the profile may not depend on one with it: `up` without the profile would refuse to start.
    for (const [name, service] of Object.entries(compose.services)) {
      if (service.profiles) continue;
      expect(JSON.stringify(service.depends_on ?? {}), name).not.toMatch(/minio/);
    }
  });

  it('is valid for every Compose CLI installed, with and without the s3 profile', async () => {
    const clis = await composeClis();
    expect(
      clis.length,
      'no Compose CLI here: apt-get install docker-compose (scripts/ensure-services.sh --test-tools does)',
    ).toBeGreaterThan(0);
    for (const cli of clis) {
      const config = async (args: string[], env: Record<string, string>) => {
        const { stdout } = await promisify(execFile)(
          cli[0]!,
          [...cli.slice(1), '-p', 'autolab-config-check', ...args, '-f', FILE, 'config'],
          { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env } },
        );
        return parse(stdout) as { services: Record<string, Service> };
      };
      const plain = await config([], { DOCKER_GID: '999' });
      for (const name of S3_SETTINGS) expect(plain.services.worker!.environment![name] ?? null, name).toBeNull();

      const s3 = await config(['--profile', 's3'], S3_PROFILE_ENV);
      expect(Object.keys(s3.services)).toEqual(expect.arrayContaining(['minio', 'minio-bucket', 'api', 'worker']));
      for (const service of ['api', 'worker']) {
        expect(s3.services[service]!.environment, `${cli.join(' ')}: ${service}`).toMatchObject({
          AUTOLAB_ARTIFACTS_URL: 's3://autolab/runs',
          AUTOLAB_S3_ENDPOINT: 'http://minio:9000',
          AUTOLAB_S3_ACCESS_KEY_ID: 'autolab',
          AUTOLAB_S3_SECRET_ACCESS_KEY: 'a-minio-password',
        });
      }
      // MinIO's own account is the one the apps are given.
      expect(s3.services.minio!.environment).toMatchObject({
        MINIO_ROOT_USER: 'autolab',
        MINIO_ROOT_PASSWORD: 'a-minio-password',
      });
      expect(s3.services['minio-bucket']!.environment).toMatchObject({ AUTOLAB_ARTIFACTS_URL: 's3://autolab/runs' });
    }
  });
});
