import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  normalizeRelativePath,
  UPLOAD_ID_PATTERN,
  type UploadFile,
  type UploadRecord,
  type UploadSummary,
} from '@autolab/contracts';
import type { Redis } from 'ioredis';
import type { ArtifactStore } from './artifact-store.js';
import { isRedisUnavailable } from './redis-availability.js';
import type { RedisKeys } from './redis-keys.js';
import { newRunId } from './run-id.js';
import { archiveKind, unpackArchive } from './upload-unpack.js';

export interface UploadLimits {
  /** Bytes of one upload: what is received and, for an archive, what it unpacks to. */
  maxBytes: number;
  /** Files in one upload (after unpacking). */
  maxFiles: number;
  /** Bytes of all of a tenant's uploads together. */
  tenantMaxBytes: number;
  /** An archive may unpack to at most this many times its own size (beyond the first MiB): zip bombs stop early. */
  maxUnpackRatio: number;
}

/** Over a size or count limit: the API answers 413 with the limit in the message. */
export class UploadLimitError extends Error {
  constructor(
    readonly limit: 'bytes' | 'files' | 'tenant_bytes',
    readonly value: number,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** Content the service refuses (a bad path, an archive entry that is a link or escapes): the API answers 400. */
export class InvalidUploadError extends Error {
  constructor(
    message: string,
    readonly entry?: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

export interface SkippedFile {
  path: string;
  reason: string;
}

const MIB = 1024 * 1024;
const mb = (bytes: number) => `${Math.round((bytes / MIB) * 10) / 10} MB`;

/**
 * Files (and archive entries) that operating systems and version control add on their own. They are skipped and
 * reported rather than refused: nobody means to give an experiment `.DS_Store`, and refusing a whole repository
 * because it has a `.gitignore` would be unhelpful.
 */
function skipReason(path: string): string | null {
  const segments = path.split('/');
  if (segments[0] === '__MACOSX') return 'macOS archive metadata';
  if (segments.some((s) => s.startsWith('.'))) return 'hidden file or directory (name starts with ".")';
  return null;
}

/**
 * Checks a relative path as a client sent it (a part's file name or an archive entry's) and strips a leading `./`.
 * Absolute and `..` paths are refused before anything else, so they can never pass as hidden files to skip.
 */
function checkUploadPath(raw: string): string {
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw) || raw.includes('\\'))
    throw new InvalidUploadError(`${JSON.stringify(raw)} is not a relative path.`, raw);
  const path = raw.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (path.split('/').some((s) => s === '..'))
    throw new InvalidUploadError(`${JSON.stringify(raw)} leaves the upload (".." segment).`, raw);
  return path;
}

/** The path to store a file at; refuses names outside the allowed alphabet. */
function storedPath(path: string, raw: string): string {
  const clean = normalizeRelativePath(path);
  if (!clean)
    throw new InvalidUploadError(
      `${JSON.stringify(raw.slice(0, 300))} is not an allowed file name: use letters, digits, ".", "_", "-" and ` +
        'spaces, segments separated by "/", at most 512 characters.',
      raw,
    );
  return clean;
}

/**
 * Writes one stream to `target`, hashing and counting as it goes, and aborts as soon as the byte budget is spent,
 * so an oversized body is never written (or held) whole.
 */
async function writeCounted(
  source: Readable,
  target: string,
  budget: { remaining: () => number; onOver: () => Error; onBytes?: (n: number) => void },
): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > budget.remaining()) return done(budget.onOver());
      budget.onBytes?.(chunk.length);
      hash.update(chunk);
      done(null, chunk);
    },
  });
  await mkdir(dirname(target), { recursive: true });
  await pipeline(source, counter, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
  return { size, sha256: hash.digest('hex') };
}

/**
 * One upload being received: files go into a private directory as they stream in, and nothing is visible to anyone
 * until `commit()` records it. `discard()` removes everything (for a refused or broken request).
 */
export class UploadDraft {
  private readonly files = new Map<string, UploadFile>();
  private readonly skipped: SkippedFile[] = [];
  private readonly held: { name: string; file: string; size: number }[] = [];
  private receivedBytes = 0;
  private parts = 0;

  constructor(
    readonly id: string,
    readonly tenant: string,
    private readonly dir: string,
    private readonly limits: UploadLimits,
    /** Bytes the tenant may still store (its limit minus what it has), read when the draft began. */
    private readonly tenantAllowance: number,
    private readonly finish: (draft: UploadDraft, record: UploadRecord) => Promise<void>,
  ) {}

  private get filesDir() {
    return join(this.dir, 'files');
  }

  private overBytes = () =>
    this.tenantAllowance < this.limits.maxBytes
      ? new UploadLimitError(
          'tenant_bytes',
          this.limits.tenantMaxBytes,
          `This tenant's uploads may hold ${mb(this.limits.tenantMaxBytes)} in all; this upload would go over it ` +
            '(delete uploads you no longer need).',
        )
      : new UploadLimitError('bytes', this.limits.maxBytes, `An upload may hold ${mb(this.limits.maxBytes)} at most.`);

  private budget() {
    return Math.min(this.limits.maxBytes, this.tenantAllowance);
  }

  /**
   * Receives one file part. A part named like an archive (.tar.gz, .tgz, .tar, .zip) is held aside: if it turns out
   * to be the only part it is unpacked at commit, otherwise it is kept as a file.
   */
  async receive(rawName: string, source: Readable): Promise<void> {
    this.parts++;
    const name = rawName.trim();
    if (!name) throw new InvalidUploadError('A file part has no file name.');
    if (archiveKind(name) && !name.includes('/')) {
      const file = join(this.dir, 'held', String(this.held.length));
      const before = this.receivedBytes;
      const { size } = await writeCounted(source, file, {
        remaining: () => this.budget() - before,
        onOver: this.overBytes,
      });
      this.receivedBytes += size;
      this.held.push({ name, file, size });
      return;
    }
    const path = checkUploadPath(name);
    const reason = skipReason(path);
    if (reason) {
      this.skipped.push({ path, reason });
      source.resume();
      return;
    }
    await this.addFile(storedPath(path, name), source);
  }

  private async addFile(path: string, source: Readable, budget?: { remaining: () => number; onOver: () => Error }) {
    if (this.files.has(path)) throw new InvalidUploadError(`${path} appears twice in the upload.`, path);
    if (this.files.size >= this.limits.maxFiles)
      throw new UploadLimitError('files', this.limits.maxFiles, `An upload may hold ${this.limits.maxFiles} files.`);
    const before = this.receivedBytes;
    const written = await writeCounted(
      source,
      join(this.filesDir, path),
      budget ?? { remaining: () => this.budget() - before, onOver: this.overBytes },
    );
    this.receivedBytes += written.size;
    this.files.set(path, { path, ...written });
  }

  /** Unpacks the one archive this upload is, or keeps held archives as plain files; then records the upload. */
  async commit(options: { unpack: boolean } = { unpack: true }): Promise<UploadRecord & { skipped: SkippedFile[] }> {
    const onlyArchive = this.parts === 1 && this.held.length === 1 && options.unpack ? this.held[0] : undefined;
    if (onlyArchive) {
      this.receivedBytes = 0;
      await this.unpack(onlyArchive);
    } else {
      for (const held of this.held) {
        this.receivedBytes -= held.size;
        await this.addFile(storedPath(checkUploadPath(held.name), held.name), createReadStream(held.file));
      }
    }
    await rm(join(this.dir, 'held'), { recursive: true, force: true });
    if (this.files.size === 0)
      throw new InvalidUploadError(
        this.skipped.length ? 'Every file of the upload was skipped (see details).' : 'The upload holds no file.',
      );
    const files = [...this.files.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    const record: UploadRecord = {
      id: this.id,
      tenant: this.tenant,
      name: onlyArchive?.name ?? this.held[0]?.name ?? files[0]?.path ?? null,
      createdAt: new Date().toISOString(),
      bytes: files.reduce((sum, f) => sum + f.size, 0),
      fileCount: files.length,
      files,
    };
    await this.finish(this, record);
    return { ...record, skipped: this.skipped };
  }

  private async unpack(archive: { name: string; file: string; size: number }) {
    const ceiling = Math.max(MIB, archive.size * this.limits.maxUnpackRatio);
    let unpacked = 0;
    await unpackArchive(archive.file, archiveKind(archive.name)!, async (entryName, type, open) => {
      const path = checkUploadPath(entryName);
      if (type === 'directory' || !path) return;
      const skip = skipReason(path);
      if (skip) {
        this.skipped.push({ path, reason: skip });
        return;
      }
      if (type !== 'file')
        throw new InvalidUploadError(
          `The archive entry ${JSON.stringify(entryName)} is a ${type}; only plain files and directories are accepted.`,
          entryName,
        );
      const clean = storedPath(path, entryName);
      await this.addFile(clean, await open(), {
        remaining: () => Math.min(this.budget(), ceiling) - unpacked,
        onOver: () =>
          ceiling < this.budget()
            ? new InvalidUploadError(
                `The archive entry ${clean} makes the archive unpack to more than ${this.limits.maxUnpackRatio}× its ` +
                  `own size (${mb(archive.size)}); refused as a likely archive bomb.`,
                clean,
              )
            : new InvalidUploadError(
                `The archive entry ${clean} makes the archive unpack to more than ${mb(this.budget())}` +
                  (this.budget() < this.limits.maxBytes
                    ? ' (what this tenant may still store).'
                    : ' (the upload limit).'),
                clean,
              ),
      });
      unpacked = this.receivedBytes;
    });
  }

  /** Removes everything this draft wrote. */
  async discard(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Where the files are once committed (the draft directory moves there). */
  get directory() {
    return this.dir;
  }
}

/**
 * Adds an upload's record to Redis if the tenant's total stays within its limit, all at once: two uploads finishing
 * together cannot both squeeze under it.
 */
const COMMIT_SCRIPT = `
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local bytes = tonumber(ARGV[3])
if used + bytes > tonumber(ARGV[4]) then return {0, used} end
redis.call('INCRBY', KEYS[1], bytes)
redis.call('HSET', KEYS[2], 'tenant', ARGV[2], 'record', ARGV[5])
redis.call('ZADD', KEYS[3], 0, ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return {1, used + bytes}
`;

const DELETE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'tenant') ~= ARGV[2] then return 0 end
local record = cjson.decode(redis.call('HGET', KEYS[1], 'record'))
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
local left = redis.call('DECRBY', KEYS[4], record.bytes)
if left <= 0 then redis.call('DEL', KEYS[4]) end
return 1
`;

/**
 * Users' own files (datasets, starting code, papers, hidden test sets): records in Redis, files in a directory per
 * upload under `root`, or, with `remote` (the S3 artifact store's bucket), in `remote` under the upload's id; `root`
 * then only holds drafts while they are received. Every read names the tenant; another tenant's upload is
 * indistinguishable from a missing one.
 */
export class UploadStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly root: string,
    /** Needed to receive uploads (the API); readers (the worker) leave it out. */
    private readonly uploadLimits?: UploadLimits,
    /** Where committed files go when they are not kept under `root` (S3). */
    private readonly remote?: ArtifactStore,
  ) {}

  get limits(): UploadLimits {
    if (!this.uploadLimits) throw new Error('this UploadStore was made without limits: it can only read');
    return this.uploadLimits;
  }

  /** Starts receiving an upload for `tenant`. */
  async begin(tenant: string): Promise<UploadDraft> {
    const id = `upl_${newRunId().slice(4)}`;
    const dir = join(this.root, `${id}.partial`);
    await mkdir(dir, { recursive: true });
    const used = Number((await this.redis.get(this.keys.tenantUploadBytes(tenant))) ?? 0);
    return new UploadDraft(
      id,
      tenant,
      dir,
      this.limits,
      Math.max(0, this.limits.tenantMaxBytes - used),
      async (draft, record) => {
        if (this.remote) {
          const remote = this.remote;
          try {
            // Each file streams from the draft to the store; the record comes only once they all are there.
            for (const file of record.files)
              await remote.putStream(id, file.path, createReadStream(join(draft.directory, 'files', file.path)));
            await this.record(tenant, record, () => remote.remove(id));
          } catch (err) {
            if (!isRedisUnavailable(err)) await remote.remove(id).catch(() => undefined);
            throw err;
          } finally {
            await rm(draft.directory, { recursive: true, force: true });
          }
          return;
        }
        const final = this.dirOf(id);
        await rename(draft.directory, final);
        await this.record(tenant, record, () => rm(final, { recursive: true, force: true }));
      },
    );
  }

  /**
   * Adds the upload's record within the tenant's limit; `undo` removes its files when the record is refused. A Redis
   * that did not answer is not a refusal: it may still run the commit once it carries on, and the record must then
   * find the files (left in place, the sweep removes them if no record ever comes).
   */
  private async record(tenant: string, record: UploadRecord, undo: () => Promise<void>): Promise<void> {
    const [ok, total] = (await this.redis
      .eval(
        COMMIT_SCRIPT,
        4,
        this.keys.tenantUploadBytes(tenant),
        this.keys.upload(record.id),
        this.keys.tenantUploadIndex(tenant),
        this.keys.uploadIndex(),
        record.id,
        tenant,
        record.bytes,
        this.limits.tenantMaxBytes,
        JSON.stringify(record),
      )
      .catch(async (err) => {
        if (!isRedisUnavailable(err)) await undo();
        throw err;
      })) as [number, number];
    if (!ok) {
      await undo();
      throw new UploadLimitError(
        'tenant_bytes',
        this.limits.tenantMaxBytes,
        `This tenant's uploads may hold ${mb(this.limits.tenantMaxBytes)} in all and hold ${mb(total)}; ` +
          `this upload (${mb(record.bytes)}) would go over it (delete uploads you no longer need).`,
      );
    }
  }

  /** The upload, or null when there is none with this id for this tenant (`tenant` undefined: any tenant). */
  async get(id: string, tenant?: string): Promise<UploadRecord | null> {
    if (!UPLOAD_ID_PATTERN.test(id)) return null;
    const [owner, json] = await this.redis.hmget(this.keys.upload(id), 'tenant', 'record');
    if (!owner || !json || (tenant !== undefined && owner !== tenant)) return null;
    return JSON.parse(json) as UploadRecord;
  }

  async list(
    limit: number,
    cursor?: string,
    tenant?: string,
  ): Promise<{ uploads: UploadSummary[]; nextCursor: string | null }> {
    const index = tenant === undefined ? this.keys.uploadIndex() : this.keys.tenantUploadIndex(tenant);
    const page = await this.redis.zrevrangebylex(index, cursor ? `(${cursor}` : '+', '-', 'LIMIT', 0, limit + 1);
    const ids = page.slice(0, limit);
    const rows = ids.length
      ? await this.redis.pipeline(ids.map((id) => ['hget', this.keys.upload(id), 'record'])).exec()
      : [];
    const uploads = (rows ?? [])
      .map(([, json]) => (typeof json === 'string' ? (JSON.parse(json) as UploadRecord) : null))
      .filter((r): r is UploadRecord => r !== null)
      .map(({ files: _files, ...summary }) => summary);
    return { uploads, nextCursor: page.length > limit ? (page[limit - 1] ?? null) : null };
  }

  /** Deletes the upload; false when this tenant has none with this id. */
  async delete(id: string, tenant: string): Promise<boolean> {
    if (!UPLOAD_ID_PATTERN.test(id)) return false;
    const deleted = await this.redis.eval(
      DELETE_SCRIPT,
      4,
      this.keys.upload(id),
      this.keys.tenantUploadIndex(tenant),
      this.keys.uploadIndex(),
      this.keys.tenantUploadBytes(tenant),
      id,
      tenant,
    );
    if (!deleted) return false;
    await rm(this.dirOf(id), { recursive: true, force: true });
    // A failure here leaves the files in the bucket without a record (the error reaches the caller).
    await this.remote?.remove(id);
    return true;
  }

  /** The directory that holds a committed upload's files (as `files/<path>`). */
  dirOf(id: string): string {
    if (!UPLOAD_ID_PATTERN.test(id)) throw new InvalidUploadError(`not an upload id: ${JSON.stringify(id)}`);
    return join(this.root, id);
  }

  /** The directory with the upload's files, at their relative paths (uploads kept under `root` only). */
  filesDir(id: string): string {
    return join(this.dirOf(id), 'files');
  }

  /**
   * A local directory with the upload's files, for a sandbox to copy in: the upload's own directory, or, when the
   * files are in `remote`, a copy downloaded into `scratch/<id>/` (the caller removes `scratch` when done).
   */
  async localFiles(upload: UploadRecord, scratch: string): Promise<string> {
    if (!this.remote) return this.filesDir(upload.id);
    const dir = join(scratch, upload.id);
    for (const file of upload.files) {
      const opened = await this.remote.open(upload.id, file.path);
      if (!opened) throw new Error(`the upload ${upload.id} has lost its file ${file.path}`);
      // Paths were checked when the upload was received (storedPath), so none leaves `dir`.
      const target = join(dir, file.path);
      await mkdir(dirname(target), { recursive: true });
      await pipeline(opened.stream, createWriteStream(target, { flags: 'wx', mode: 0o644 }));
    }
    return dir;
  }

  /**
   * Removes what a killed API process left on disk: drafts (`upl_….partial`) untouched for longer than any request
   * may last, and upload directories that no record names (moved into place, then killed before the commit) after a
   * minute. Both are invisible to users and not counted against any limit; without this they would stay forever.
   * Returns the names removed.
   */
  async sweepAbandoned(requestTimeoutMs: number, now = Date.now()): Promise<string[]> {
    const removed: string[] = [];
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch {
      return removed;
    }
    for (const name of names) {
      const draft = name.endsWith('.partial');
      const id = draft ? name.slice(0, -'.partial'.length) : name;
      if (!UPLOAD_ID_PATTERN.test(id)) continue;
      const path = join(this.root, name);
      // ctime: for a draft no earlier than its creation; for a committed directory, the moment it was moved into place.
      const changed = (await stat(path).catch(() => null))?.ctimeMs;
      if (changed === undefined || now - changed <= (draft ? requestTimeoutMs : ORPHAN_GRACE_MS)) continue;
      if (!draft && (await this.redis.exists(this.keys.upload(id)))) continue;
      await rm(path, { recursive: true, force: true });
      removed.push(name);
    }
    return removed;
  }
}

/** How long a committed-looking upload directory without a record may exist (the commit takes milliseconds). */
const ORPHAN_GRACE_MS = 60_000;
