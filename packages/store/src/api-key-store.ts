import { createHash, randomBytes } from 'node:crypto';
import { type ApiKeyRecord, defaultScopes, SCOPES, type Scope } from '@autolab/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import { newRunId } from './run-id.js';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SECRET_CHARS = 32;

/** `count` uniformly random base62 characters (rejection sampling: no modulo bias). */
export function randomBase62(count: number): string {
  let out = '';
  while (out.length < count) {
    for (const byte of randomBytes(count * 2)) {
      // 248 = 4 × 62: bytes at or above it would make the first characters more likely.
      if (byte < 248 && out.length < count) out += BASE62[byte % 62];
    }
  }
  return out;
}

/**
 * SHA-256 of a secret, hex. A fast, unsalted hash is right here because the secrets are 32 random base62 characters
 * (~190 bits) made by this server, not passwords people chose: nobody can enumerate that space, however fast each
 * guess is, so a slow password hash (bcrypt, scrypt, Argon2) would add nothing but CPU on every request. Being
 * unsalted and deterministic also lets a key be found by its hash in one Redis lookup.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export interface NewApiKey {
  tenant: string;
  name?: string | null;
  /** Default: `runs:read` and `runs:write`. */
  scopes?: Scope[];
  /** ISO 8601; null or absent: never expires. */
  expiresAt?: string | null;
}

/**
 * How long one API process reuses a key lookup: every authenticated request needs one, and two Redis round trips per
 * request were most of the API's latency. A key revoked through another API process thus stops working there within
 * this long (at once on the process that revoked it); expiry is checked on every request, whatever was reused.
 */
export const KEY_LOOKUP_REUSE_MS = 1000;
/** Lookups kept at most (unknown keys too); the memory of them is dropped whole when full. */
const MAX_REUSED_LOOKUPS = 10_000;

/** API keys, stored in Redis as records plus SHA-256(secret) → id. The secret itself is never stored. */
export class ApiKeyStore {
  private readonly recent = new Map<string, { record: ApiKeyRecord | null; until: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Creates a key; the secret is returned here and never again. */
  async create(input: NewApiKey): Promise<{ record: ApiKeyRecord; key: string }> {
    const key = `alk_${randomBase62(SECRET_CHARS)}`;
    const scopes = SCOPES.filter((s) => (input.scopes ?? defaultScopes(false)).includes(s));
    const record: ApiKeyRecord = {
      id: `key_${newRunId().slice(4)}`,
      tenant: input.tenant,
      name: input.name ?? null,
      admin: scopes.includes('admin'),
      scopes,
      createdAt: new Date().toISOString(),
      expiresAt: input.expiresAt ? new Date(input.expiresAt).toISOString() : null,
      revokedAt: null,
    };
    await this.redis
      .multi()
      .hset(this.keys.apiKey(record.id), {
        id: record.id,
        tenant: record.tenant,
        name: JSON.stringify(record.name),
        admin: record.admin ? '1' : '0',
        scopes: record.scopes.join(' '),
        createdAt: record.createdAt,
        expiresAt: record.expiresAt ?? '',
        revokedAt: '',
        hash: hashSecret(key),
      })
      .set(this.keys.apiKeyByHash(hashSecret(key)), record.id)
      .zadd(this.keys.apiKeyIndex(), 0, record.id)
      .exec();
    return { record, key };
  }

  /** The key with this secret, if it is usable now (not revoked, not expired), or null. */
  verify(secret: string): Promise<ApiKeyRecord | null> {
    return this.verifyHash(hashSecret(secret));
  }

  /** `verify` for a caller that has already hashed the secret (`hashSecret`: SHA-256, hex). */
  async verifyHash(hash: string): Promise<ApiKeyRecord | null> {
    let lookup = this.recent.get(hash);
    if (!lookup || lookup.until <= this.clock()) {
      const id = await this.redis.get(this.keys.apiKeyByHash(hash));
      lookup = { record: id ? await this.get(id) : null, until: this.clock() + KEY_LOOKUP_REUSE_MS };
      if (this.recent.size >= MAX_REUSED_LOOKUPS) this.recent.clear();
      this.recent.set(hash, lookup);
    }
    return lookup.record && isUsable(lookup.record, this.clock()) ? lookup.record : null;
  }

  async get(id: string): Promise<ApiKeyRecord | null> {
    const h = await this.redis.hgetall(this.keys.apiKey(id));
    return h.id ? parseKey(h) : null;
  }

  /** Every key, oldest first; revoked ones too (with `revokedAt`). */
  async list(): Promise<ApiKeyRecord[]> {
    const ids = await this.redis.zrange(this.keys.apiKeyIndex(), 0, -1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.apiKey(id));
    const rows = ((await pipeline.exec()) ?? []).map(([, h]) => h as Record<string, string>);
    return rows.filter((h) => h.id).map(parseKey);
  }

  /**
   * Revokes a key: it stops working at once (its hash no longer leads anywhere). Returns false when there is no
   * such key; revoking twice keeps the first time.
   */
  async revoke(id: string): Promise<boolean> {
    const result = await this.redis.eval(
      `local hash = redis.call('HGET', KEYS[1], 'hash')
       if not hash then return 0 end
       if redis.call('HGET', KEYS[1], 'revokedAt') == '' then redis.call('HSET', KEYS[1], 'revokedAt', ARGV[1]) end
       redis.call('DEL', ARGV[2] .. hash)
       return 1`,
      1,
      this.keys.apiKey(id),
      new Date().toISOString(),
      this.keys.apiKeyByHash(''),
    );
    for (const [hash, lookup] of this.recent) if (lookup.record?.id === id) this.recent.delete(hash);
    return result === 1;
  }
}

/** Not revoked and not past its expiry. */
export const isUsable = (record: ApiKeyRecord, now = Date.now()) =>
  record.revokedAt === null && (record.expiresAt === null || Date.parse(record.expiresAt) > now);

function parseKey(h: Record<string, string>): ApiKeyRecord {
  // Keys stored before scopes existed keep the rights they had: admin keys all, the others read and write.
  const scopes =
    h.scopes === undefined ? defaultScopes(h.admin === '1') : SCOPES.filter((s) => h.scopes!.split(' ').includes(s));
  return {
    id: h.id!,
    tenant: h.tenant ?? '',
    name: JSON.parse(h.name ?? 'null'),
    admin: scopes.includes('admin'),
    scopes,
    createdAt: h.createdAt ?? '',
    expiresAt: h.expiresAt || null,
    revokedAt: h.revokedAt || null,
  };
}
