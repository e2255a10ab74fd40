import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from '@20minutes/s3rver';

/**
 * An S3-protocol server from the npm registry (@20minutes/s3rver, the maintained fork of s3rver that runs on Node 20),
 * in this process, on a free port, with its own directory and one bucket. The stores talk to it with the real AWS
 * SDK over HTTP, exactly as they talk to AWS S3, MinIO or R2.
 *
 * Signatures: s3rver checks the access key id but computes the canonical path of bucket-level requests as `/bucket`
 * where the current SDK signs `/bucket/` (ListObjectsV2), so it would refuse every listing. `allowMismatchedSignatures`
 * keeps the key check and drops only that comparison.
 */
export interface S3Server {
  endpoint: string;
  bucket: string;
  port: number;
  /** The bucket's contents on disk (s3rver's own layout), for asserting what was stored. */
  dir: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The settings the API and the worker take to use this server, with `prefix` as the key prefix. */
  env(prefix: string): Record<string, string>;
  /** Stops answering (connections refused) until `start()`; what it stored stays. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startS3Server(options: { bucket?: string } = {}): Promise<S3Server> {
  const bucket = options.bucket ?? 'autolab-test';
  const dir = await mkdtemp(join(tmpdir(), 'autolab-s3-'));
  let port = 0;
  let server: S3rver | null = null;
  const start = async () => {
    if (server) return;
    const next = new S3rver({
      address: '127.0.0.1',
      port,
      silent: true,
      directory: dir,
      allowMismatchedSignatures: true,
      vhostBuckets: false,
      configureBuckets: [{ name: bucket }],
    });
    port = (await next.run()).port;
    server = next;
  };
  const stop = async () => {
    const running = server;
    server = null;
    if (!running) return;
    running.httpServer?.closeAllConnections();
    await running.close();
  };
  await start();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    bucket,
    port,
    dir,
    // s3rver's built-in account.
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    env: (prefix) => ({
      AUTOLAB_ARTIFACTS_URL: `s3://${bucket}/${prefix}`,
      AUTOLAB_S3_ENDPOINT: endpoint,
      AUTOLAB_S3_ACCESS_KEY_ID: 'S3RVER',
      AUTOLAB_S3_SECRET_ACCESS_KEY: 'S3RVER',
    }),
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
