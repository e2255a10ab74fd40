import { resolve } from 'node:path';
import { z } from 'zod';
import { type ArtifactStore, LocalArtifactStore } from './artifact-store.js';
import { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.js';

/** An empty value counts as unset (compose files and env files often pass `VAR=` for "not given"). */
const unsetIfEmpty = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/**
 * The settings that choose the artifact store, shared by the API's and the worker's environment schemas (both must
 * see the same store). docs/artifact-storage.md has recipes for AWS S3, MinIO and Cloudflare R2.
 */
export const ArtifactStoreEnv = {
  /** `s3://bucket/prefix`: runs' files go to that bucket; unset: `<AUTOLAB_DATA_DIR>/artifacts` on local disk. */
  AUTOLAB_ARTIFACTS_URL: unsetIfEmpty(
    z.string().regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, 's3://bucket or s3://bucket/prefix'),
  ),
  /** An S3-compatible service's URL (MinIO, R2, …); unset: AWS S3 of AUTOLAB_S3_REGION. */
  AUTOLAB_S3_ENDPOINT: unsetIfEmpty(z.string().url()),
  /** AWS region of the bucket; `auto` for R2. */
  AUTOLAB_S3_REGION: z.string().min(1).default('us-east-1'),
  /** `http://endpoint/bucket/key` instead of `http://bucket.endpoint/key`; defaults to on when an endpoint is set. */
  AUTOLAB_S3_FORCE_PATH_STYLE: unsetIfEmpty(z.enum(['on', 'off'])),
  /** Both or neither; neither: the AWS SDK's own chain (AWS_ACCESS_KEY_ID…, ~/.aws, an instance or task role). */
  AUTOLAB_S3_ACCESS_KEY_ID: unsetIfEmpty(z.string()),
  AUTOLAB_S3_SECRET_ACCESS_KEY: unsetIfEmpty(z.string()),
  /** How long the worker waits for an unreachable store before the run fails with artifact_store_unavailable. */
  AUTOLAB_S3_RETRY_SECONDS: z.coerce.number().min(0).max(3600).default(60),
};

type ArtifactStoreEnvValues = z.infer<z.ZodObject<typeof ArtifactStoreEnv>>;

export type ArtifactStoreConfig =
  | { kind: 'local'; dir: string }
  | ({ kind: 's3' } & Omit<S3ArtifactStoreOptions, 'timeoutMs'>);

/** Reads the parsed settings; throws with a message naming the setting when they do not fit together. */
export function artifactStoreConfig(e: ArtifactStoreEnvValues & { AUTOLAB_DATA_DIR: string }): ArtifactStoreConfig {
  if (!e.AUTOLAB_ARTIFACTS_URL) return { kind: 'local', dir: resolve(e.AUTOLAB_DATA_DIR, 'artifacts') };
  const [, bucket = '', rest = ''] = /^s3:\/\/([^/]+)\/?(.*)$/.exec(e.AUTOLAB_ARTIFACTS_URL) ?? [];
  if (Boolean(e.AUTOLAB_S3_ACCESS_KEY_ID) !== Boolean(e.AUTOLAB_S3_SECRET_ACCESS_KEY))
    throw new Error('set both AUTOLAB_S3_ACCESS_KEY_ID and AUTOLAB_S3_SECRET_ACCESS_KEY, or neither');
  return {
    kind: 's3',
    bucket,
    prefix: rest.replace(/^\/+|\/+$/g, ''),
    region: e.AUTOLAB_S3_REGION,
    ...(e.AUTOLAB_S3_ENDPOINT ? { endpoint: e.AUTOLAB_S3_ENDPOINT } : {}),
    forcePathStyle: (e.AUTOLAB_S3_FORCE_PATH_STYLE ?? (e.AUTOLAB_S3_ENDPOINT ? 'on' : 'off')) === 'on',
    ...(e.AUTOLAB_S3_ACCESS_KEY_ID && e.AUTOLAB_S3_SECRET_ACCESS_KEY
      ? { credentials: { accessKeyId: e.AUTOLAB_S3_ACCESS_KEY_ID, secretAccessKey: e.AUTOLAB_S3_SECRET_ACCESS_KEY } }
      : {}),
    retryMs: e.AUTOLAB_S3_RETRY_SECONDS * 1000,
  };
}

export interface OpenOptions {
  /** false (the API): fail at once rather than retrying an unreachable store. */
  waitForOutages: boolean;
  /** With `waitForOutages`: told when an operation starts waiting (a log line). */
  onWait?: S3ArtifactStoreOptions['onWait'];
}

/** The store the configuration names. */
export function openArtifactStore(config: ArtifactStoreConfig, options: OpenOptions): ArtifactStore {
  if (config.kind === 'local') return new LocalArtifactStore(config.dir);
  const { kind: _kind, retryMs, ...s3 } = config;
  return new S3ArtifactStore({
    ...s3,
    retryMs: options.waitForOutages ? retryMs : 0,
    ...(options.onWait ? { onWait: options.onWait } : {}),
  });
}

/**
 * Where uploads' files go when artifacts are in S3: the same bucket, under `prefix/uploads/<upload-id>/` (run ids
 * start with `run_`, so no run's folder is called `uploads`). Undefined for the local store: uploads then stay in
 * `$AUTOLAB_DATA_DIR/uploads`.
 */
export function openUploadFileStore(config: ArtifactStoreConfig, options: OpenOptions): ArtifactStore | undefined {
  if (config.kind === 'local') return undefined;
  return openArtifactStore({ ...config, prefix: config.prefix ? `${config.prefix}/uploads` : 'uploads' }, options);
}

/** Where the files are, for log lines (no credential). */
export function describeArtifactStore(config: ArtifactStoreConfig): string {
  if (config.kind === 'local') return config.dir;
  return `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
}
