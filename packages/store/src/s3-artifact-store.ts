import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ArtifactEntry } from '@autolab/contracts';
import { normalizeRelativePath } from '@autolab/contracts';
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import {
  type ArtifactFile,
  type ArtifactStore,
  ArtifactStoreUnavailableError,
  InvalidArtifactPathError,
  mediaTypeOf,
} from './artifact-store.js';

/** How to reach the bucket. Credentials left out: the SDK's own chain (AWS_* variables, profile, instance role). */
export interface S3ArtifactStoreOptions {
  bucket: string;
  /** Key prefix of every run's folder, without leading or trailing `/` ('' for the bucket's root). */
  prefix: string;
  region: string;
  /** For MinIO, R2 and other S3-compatible services; unset: AWS S3 itself. */
  endpoint?: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * How long an operation keeps retrying while the store is unreachable or answers 5xx, before it throws
   * `ArtifactStoreUnavailableError`. The worker waits (a short S3 outage must not fail a run); the API does not (a
   * request answers 503 at once). The SDK's own three quick attempts come on top.
   */
  retryMs: number;
  /** Per request: connecting, and waiting for an answer. */
  timeoutMs?: number;
  /** Told once per operation that starts waiting for the store (for a log line); not for the API, which does not wait. */
  onWait?: (what: string, err: ArtifactStoreUnavailableError) => void;
}

/**
 * Appended chunks live under `<run>/~chunks/<path>/<sequence>`. No artifact path can start with `~` (see
 * normalizeRelativePath), so this folder never clashes with a file of the run, and `list()` folds it away.
 */
const CHUNKS = '~chunks/';
let chunkCounter = 0;

/** A chunk's name sorts in the order chunks were written: milliseconds, then a per-process counter. */
const chunkName = () =>
  `${Date.now().toString().padStart(15, '0')}-${(chunkCounter++ % 1e6).toString().padStart(6, '0')}-${randomBytes(3).toString('hex')}`;

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
};

/** Worth waiting for: the network, throttling and the server's own errors. A 403 or 400 will not get better. */
const isTransient = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  // No credentials anywhere in the SDK's chain: a configuration error, not an outage.
  if (e?.name === 'CredentialsProviderError') return false;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined) return status >= 500 || status === 429;
  return true;
};

/** Files of a run in an S3-compatible bucket, under `<prefix>/<runId>/<path>`. */
export class S3ArtifactStore implements ArtifactStore {
  private readonly client: S3Client;
  private readonly root: string;

  constructor(private readonly options: S3ArtifactStoreOptions) {
    this.root = options.prefix ? `${options.prefix}/` : '';
    const timeout = options.timeoutMs ?? 10_000;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle,
      ...(options.credentials ? { credentials: options.credentials } : {}),
      // Checksums only where S3 requires them: several S3-compatible services do not accept the SDK's default
      // trailing checksums on every upload (aws-chunked bodies).
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: timeout, requestTimeout: timeout },
    });
  }

  /** `s3://bucket/prefix`, for messages. */
  get location(): string {
    return `s3://${this.options.bucket}/${this.options.prefix}`.replace(/\/$/, '');
  }

  private runBase(runId: string): string {
    if (!normalizeRelativePath(runId) || runId.includes('/')) throw new InvalidArtifactPathError(runId);
    return `${this.root}${runId}/`;
  }

  private key(runId: string, path: string): string {
    const clean = normalizeRelativePath(path);
    if (!clean) throw new InvalidArtifactPathError(path);
    return `${this.runBase(runId)}${clean}`;
  }

  /** Runs `op`, retrying transient failures for up to `retryMs`; every failure leaves as ArtifactStoreUnavailableError. */
  private async call<T>(what: string, op: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.options.retryMs;
    for (let attempt = 0; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (err instanceof InvalidArtifactPathError) throw err;
        const wait = Math.min(5_000, 250 * 2 ** attempt);
        if (isTransient(err) && Date.now() + wait < giveUpAt) {
          if (attempt === 0) this.options.onWait?.(what, this.unavailable(what, err));
          await new Promise((resolve) => setTimeout(resolve, wait));
          continue;
        }
        throw this.unavailable(what, err);
      }
    }
  }

  private unavailable(what: string, err: unknown): ArtifactStoreUnavailableError {
    const e = err as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
    const status = e.$metadata?.httpStatusCode;
    const cause = [e.code ?? e.name, status ? `HTTP ${status}` : null, e.message].filter(Boolean).join(': ');
    return new ArtifactStoreUnavailableError(
      `the artifact store ${this.location}${this.options.endpoint ? ` at ${this.options.endpoint}` : ''} failed to ${what}: ${cause}`,
      { cause: err },
    );
  }

  async put(runId: string, path: string, content: Buffer | string): Promise<void> {
    const Key = this.key(runId, path);
    const Body = typeof content === 'string' ? Buffer.from(content) : content;
    await this.call(`store ${path}`, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.options.bucket,
          Key,
          Body,
          ContentLength: Body.length,
          ContentType: mediaTypeOf(path),
        }),
      ),
    );
  }

  async putStream(runId: string, path: string, source: Readable): Promise<void> {
    const Key = this.key(runId, path);
    let sourceError: Error | null = null;
    source.once('error', (err) => {
      sourceError = err;
    });
    // A stream cannot be sent twice, so no retry window here: the SDK retries each part on its own. A failed upload
    // is aborted (no parts left behind, nothing at the key).
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.options.bucket, Key, Body: source, ContentType: mediaTypeOf(path) },
    });
    try {
      await upload.done();
    } catch (err) {
      source.destroy();
      // The caller's own stream failing is not the store's outage.
      throw sourceError ?? this.unavailable(`store ${path}`, err);
    }
  }

  async append(runId: string, path: string, content: Buffer | string): Promise<void> {
    const clean = normalizeRelativePath(path);
    if (!clean) throw new InvalidArtifactPathError(path);
    const Key = `${this.runBase(runId)}${CHUNKS}${clean}/${chunkName()}`;
    const Body = typeof content === 'string' ? Buffer.from(content) : content;
    // The same key on a retry: a chunk that did arrive before its answer was lost is written again, not twice.
    await this.call(`append to ${path}`, () =>
      this.client.send(new PutObjectCommand({ Bucket: this.options.bucket, Key, Body, ContentLength: Body.length })),
    );
  }

  /** Every object under `prefix`, as keys relative to it with their sizes. */
  private async listUnder(prefix: string, what: string): Promise<{ name: string; size: number }[]> {
    const found: { name: string; size: number }[] = [];
    let token: string | undefined;
    do {
      const page = await this.call(what, () =>
        this.client.send(
          new ListObjectsV2Command({ Bucket: this.options.bucket, Prefix: prefix, ContinuationToken: token }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key) found.push({ name: object.Key.slice(prefix.length), size: object.Size ?? 0 });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  async list(runId: string): Promise<ArtifactEntry[]> {
    const sizes = new Map<string, number>();
    for (const { name, size } of await this.listUnder(this.runBase(runId), `list the files of ${runId}`)) {
      // A chunk counts towards the file it belongs to; anything else that is not a valid path is not the run's.
      const path = name.startsWith(CHUNKS) ? name.slice(CHUNKS.length, name.lastIndexOf('/')) : name;
      if (normalizeRelativePath(path) !== path) continue;
      sizes.set(path, (sizes.get(path) ?? 0) + size);
    }
    return [...sizes.entries()]
      .map(([path, size]) => ({ path, size, mediaType: mediaTypeOf(path) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private async get(Key: string, what: string): Promise<GetObjectCommandOutput | null> {
    return this.call(what, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key })).catch((err) => {
        if (isMissing(err)) return null;
        throw err;
      }),
    );
  }

  async open(runId: string, path: string): Promise<ArtifactFile | null> {
    const key = this.key(runId, path);
    const clean = normalizeRelativePath(path)!;
    const chunkPrefix = `${this.runBase(runId)}${CHUNKS}${clean}/`;
    // The whole object (if any) is one version from this GET on; the chunks are the ones listed now (a chunk never
    // changes once written). What is appended later is not part of this read.
    const [gotWhole, listed] = await Promise.allSettled([
      this.get(key, `read ${path}`),
      this.listUnder(chunkPrefix, `read ${path}`),
    ]);
    const whole = gotWhole.status === 'fulfilled' ? gotWhole.value : null;
    const release = () => (whole?.Body as Readable | undefined)?.on('error', () => undefined).destroy();
    if (gotWhole.status === 'rejected' || listed.status === 'rejected') {
      release();
      throw gotWhole.status === 'rejected' ? gotWhole.reason : (listed as PromiseRejectedResult).reason;
    }
    const chunks = listed.value;
    if (!whole && chunks.length === 0) return null;
    const wholeSize = whole ? (whole.ContentLength ?? 0) : 0;
    const size = wholeSize + chunks.reduce((sum, c) => sum + c.size, 0);
    const mediaType = mediaTypeOf(clean);
    chunks.sort((a, b) => (a.name < b.name ? -1 : 1));
    const stream = Readable.from(this.concatenate(whole, chunkPrefix, chunks, path));
    // A stream destroyed before it was read never runs the generator (nor its cleanup): the open response goes here.
    stream.once('close', release);
    return { stream, size, mediaType };
  }

  /**
   * The whole object's bytes, then each chunk's, fetched one at a time as the reader asks for them. Always through
   * `Readable.from`, so callers get a plain Node stream, not the SDK's response object.
   */
  private async *concatenate(
    whole: GetObjectCommandOutput | null,
    chunkPrefix: string,
    chunks: { name: string; size: number }[],
    path: string,
  ): AsyncGenerator<Buffer> {
    let body = whole?.Body as Readable | undefined;
    try {
      if (body) for await (const part of body) yield part as Buffer;
      for (const chunk of chunks) {
        const got = await this.get(`${chunkPrefix}${chunk.name}`, `read ${path}`);
        if (!got || got.ContentLength !== chunk.size)
          throw new ArtifactStoreUnavailableError(`a chunk of ${path} changed or vanished while it was read`);
        body = got.Body as Readable;
        for await (const part of body) yield part as Buffer;
      }
    } finally {
      // A reader that stops early (a client that went away) must not leave a response open; the response's own
      // "aborted" error then has no reader left to go to.
      body?.on('error', () => undefined).destroy();
    }
  }

  async remove(runId: string): Promise<void> {
    const base = this.runBase(runId);
    const keys = (await this.listUnder(base, `list the files of ${runId}`)).map((o) => `${base}${o.name}`);
    // DeleteObjects takes at most 1000 keys at once.
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const answer = await this.call(`remove the files of ${runId}`, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.options.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      const failed = answer.Errors ?? [];
      if (failed.length > 0)
        throw this.unavailable(
          `remove the files of ${runId}`,
          new Error(`${failed.length} objects: ${failed[0]?.Code}`),
        );
    }
  }

  /** One look, without the retry window (a start-up check should say at once what is wrong). */
  async check(): Promise<void> {
    try {
      await this.client.send(new HeadBucketCommand({ Bucket: this.options.bucket }));
    } catch (err) {
      throw this.unavailable('answer', err);
    }
  }
}
