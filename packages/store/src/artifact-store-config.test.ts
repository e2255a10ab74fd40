import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ArtifactStoreEnv, artifactStoreConfig } from './artifact-store-config.js';

const parse = (env: Record<string, string>) =>
  artifactStoreConfig({ ...z.object(ArtifactStoreEnv).parse(env), AUTOLAB_DATA_DIR: '/srv/autolab' });

describe('artifactStoreConfig', () => {
  it('is the local directory under the data directory when no URL is set (an empty value is unset)', () => {
    expect(parse({})).toEqual({ kind: 'local', dir: resolve('/srv/autolab', 'artifacts') });
    expect(parse({ AUTOLAB_ARTIFACTS_URL: '', AUTOLAB_S3_ENDPOINT: '', AUTOLAB_S3_ACCESS_KEY_ID: '' })).toEqual({
      kind: 'local',
      dir: resolve('/srv/autolab', 'artifacts'),
    });
  });

  it('reads bucket and prefix from s3:// URLs; path style follows the endpoint unless set', () => {
    expect(parse({ AUTOLAB_ARTIFACTS_URL: 's3://my-bucket' })).toEqual({
      kind: 's3',
      bucket: 'my-bucket',
      prefix: '',
      region: 'us-east-1',
      forcePathStyle: false,
      retryMs: 60_000,
    });
    const minio = parse({
      AUTOLAB_ARTIFACTS_URL: 's3://autolab/runs/prod/',
      AUTOLAB_S3_ENDPOINT: 'http://minio:9000',
      AUTOLAB_S3_ACCESS_KEY_ID: 'id',
      AUTOLAB_S3_SECRET_ACCESS_KEY: 'secret',
      AUTOLAB_S3_RETRY_SECONDS: '5',
    });
    expect(minio).toMatchObject({
      bucket: 'autolab',
      prefix: 'runs/prod',
      endpoint: 'http://minio:9000',
      forcePathStyle: true,
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
      retryMs: 5_000,
    });
    expect(
      parse({
        AUTOLAB_ARTIFACTS_URL: 's3://r2-bucket/x',
        AUTOLAB_S3_ENDPOINT: 'https://acct.r2.cloudflarestorage.com',
        AUTOLAB_S3_REGION: 'auto',
        AUTOLAB_S3_FORCE_PATH_STYLE: 'off',
      }),
    ).toMatchObject({ region: 'auto', forcePathStyle: false });
  });

  it('refuses what cannot work, naming the setting', () => {
    for (const url of ['http://bucket/x', 's3://', 's3://UPPER', 'bucket/prefix'])
      expect(() => parse({ AUTOLAB_ARTIFACTS_URL: url }), url).toThrow(/s3:\/\/bucket/);
    expect(() => parse({ AUTOLAB_ARTIFACTS_URL: 's3://b-1', AUTOLAB_S3_ACCESS_KEY_ID: 'only-the-id' })).toThrow(
      /AUTOLAB_S3_ACCESS_KEY_ID and AUTOLAB_S3_SECRET_ACCESS_KEY/,
    );
  });
});
