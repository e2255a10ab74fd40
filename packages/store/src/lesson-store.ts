import { Lesson, type LessonKind } from '@autolab/contracts';
import { type LearnedLesson, type LessonHit, LessonIndex, mergeLessons } from '@autolab/lessons';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import { newRunId } from './run-id.js';

/** Search indexes kept per process (one per set of libraries a tenant reads), rebuilt when a library changes. */
const MAX_CACHED_INDEXES = 64;
/** Concurrent writers of one tenant's library (two runs ending at once) retry their merge this often. */
const MAX_MERGE_ATTEMPTS = 10;
const RETRY = Symbol('retry');

export interface LessonSearch {
  /** Free text; empty lists every lesson (newest first). */
  q?: string;
  kinds?: readonly LessonKind[];
  tags?: readonly string[];
  includeRetracted?: boolean;
  limit: number;
  /** Lessons to skip (the `cursor` of a page). */
  offset?: number;
  /** Hybrid retrieval through an embeddings model (with `q` only); without it, full-text search alone. */
  semantic?: LessonEmbeddings;
}

/** An embeddings model: its name (vectors are kept per model), how to embed texts, and the similarity that counts. */
export interface LessonEmbeddings {
  model: string;
  embed(texts: string[]): Promise<number[][]>;
  minSimilarity: number;
}

/** Texts sent to the embeddings endpoint in one request. */
const EMBED_BATCH = 64;

/**
 * A tenant's lessons in Redis: one hash per tenant (id → JSON) and a version counter bumped by every change, by which
 * the search indexes are cached. A tenant reads its own library and those an admin shared with it (read-only); it
 * writes only its own.
 */
export class LessonStore {
  private readonly indexes = new Map<string, LessonIndex>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** The tenant's own lessons, in no particular order. */
  async own(tenant: string): Promise<Lesson[]> {
    return parseAll(await this.redis.hgetall(this.keys.tenantLessons(tenant)));
  }

  /** The tenants whose libraries `tenant` reads: its own first, then those shared with it. */
  async sources(tenant: string): Promise<string[]> {
    const shared = await this.redis.smembers(this.keys.tenantLessonSources(tenant));
    return [tenant, ...shared.filter((t) => t !== tenant).sort()];
  }

  /** A lesson `tenant` may read (its own or shared with it), or null. */
  async get(tenant: string, id: string): Promise<Lesson | null> {
    for (const source of await this.sources(tenant)) {
      const raw = await this.redis.hget(this.keys.tenantLessons(source), id);
      if (raw) return Lesson.parse(JSON.parse(raw));
    }
    return null;
  }

  /** Relevant lessons for `tenant` (ranked by the index), or with no text all of them, newest first. */
  async search(tenant: string, query: LessonSearch): Promise<{ hits: LessonHit[]; more: boolean }> {
    const offset = query.offset ?? 0;
    const q = query.q?.trim() ?? '';
    let hits: LessonHit[];
    if (q === '') {
      const kinds = query.kinds ? new Set<string>(query.kinds) : null;
      // The cached index holds every readable lesson: listing reads one version per library, not every lesson.
      hits = (await this.index(tenant)).lessons
        .filter((l) => (query.includeRetracted || !l.retracted) && (!kinds || kinds.has(l.kind)))
        .filter((l) => (query.tags ?? []).every((tag) => l.tags.includes(tag)))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.id.localeCompare(a.id))
        .map((lesson) => ({ lesson, score: 0 }));
    } else {
      const index = await this.index(tenant);
      const semantic = query.semantic
        ? {
            query: (await query.semantic.embed([q]))[0] ?? [],
            vectors: await this.vectors(index.lessons, query.semantic),
            minSimilarity: query.semantic.minSimilarity,
          }
        : undefined;
      hits = index.find({
        text: q,
        ...(query.kinds ? { kinds: query.kinds } : {}),
        ...(query.tags ? { tags: query.tags } : {}),
        includeRetracted: query.includeRetracted ?? false,
        limit: offset + query.limit + 1,
        ...(semantic ? { semantic } : {}),
      });
    }
    return { hits: hits.slice(offset, offset + query.limit), more: hits.length > offset + query.limit };
  }

  /**
   * Folds a run's distilled lessons into the tenant's library (see `mergeLessons`): optimistic, under WATCH of the
   * version, so two runs of one tenant ending at once both land. Returns the lessons that changed or are new.
   */
  async learn(tenant: string, learned: readonly LearnedLesson[], now = new Date()): Promise<Lesson[]> {
    const hash = this.keys.tenantLessons(tenant);
    const version = this.keys.tenantLessonsVersion(tenant);
    return this.watching(async (redis) => {
      await redis.watch(version);
      const existing = parseAll(await redis.hgetall(hash));
      const changed = mergeLessons(existing, learned, {
        tenant,
        now: now.toISOString(),
        newId: () => `les_${newRunId(now.getTime()).slice(4)}`,
      });
      if (changed.length === 0) {
        await redis.unwatch();
        return [];
      }
      const result = await redis
        .multi()
        .hset(hash, Object.fromEntries(changed.map((lesson) => [lesson.id, JSON.stringify(lesson)])))
        .incr(version)
        .exec();
      return result === null ? RETRY : changed;
    });
  }

  /** Pins or retracts one of the tenant's own lessons; null when it has none with that id. */
  async update(tenant: string, id: string, change: { pinned?: boolean; retracted?: boolean }): Promise<Lesson | null> {
    const hash = this.keys.tenantLessons(tenant);
    return this.watching(async (redis) => {
      await redis.watch(this.keys.tenantLessonsVersion(tenant));
      const raw = await redis.hget(hash, id);
      if (!raw) {
        await redis.unwatch();
        return null;
      }
      const lesson: Lesson = { ...Lesson.parse(JSON.parse(raw)), ...change, updatedAt: new Date().toISOString() };
      const result = await redis
        .multi()
        .hset(hash, id, JSON.stringify(lesson))
        .incr(this.keys.tenantLessonsVersion(tenant))
        .exec();
      return result === null ? RETRY : lesson;
    });
  }

  /**
   * Runs a WATCH/MULTI step on a connection of its own (a WATCH belongs to its connection: on the shared one, another
   * caller's EXEC would end it), again while another writer got in between.
   */
  private async watching<T>(step: (redis: Redis) => Promise<T | typeof RETRY>): Promise<T> {
    // Connected before use: a client without an offline queue (the API's) refuses commands until it is ready.
    const redis = this.redis.duplicate({ lazyConnect: true });
    try {
      await redis.connect();
      for (let attempt = 1; attempt <= MAX_MERGE_ATTEMPTS; attempt++) {
        const result = await step(redis);
        if (result !== RETRY) return result;
      }
      throw new Error('the lesson library kept changing while it was being written; try again');
    } finally {
      redis.disconnect();
    }
  }

  /** Deletes one of the tenant's own lessons; false when it has none with that id. */
  async delete(tenant: string, id: string): Promise<boolean> {
    const [[, removed]] = (await this.redis
      .multi()
      .hdel(this.keys.tenantLessons(tenant), id)
      .incr(this.keys.tenantLessonsVersion(tenant))
      .exec()) as [[Error | null, number]];
    return removed === 1;
  }

  /**
   * The embeddings of `lessons` by `embeddings.model`, read from each owner's vector hash; those missing (lessons
   * learned before embeddings were configured, or under another model) are computed once and kept.
   */
  private async vectors(lessons: readonly Lesson[], embeddings: LessonEmbeddings): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    const byTenant = new Map<string, Lesson[]>();
    for (const lesson of lessons) {
      const group = byTenant.get(lesson.tenant) ?? [];
      group.push(lesson);
      byTenant.set(lesson.tenant, group);
    }
    for (const [tenant, own] of byTenant) {
      const key = this.keys.tenantLessonVectors(tenant, embeddings.model);
      const stored = own.length > 0 ? await this.redis.hmget(key, ...own.map((l) => l.id)) : [];
      const missing: Lesson[] = [];
      own.forEach((lesson, i) => {
        const raw = stored[i];
        if (raw) out.set(lesson.id, JSON.parse(raw) as number[]);
        else missing.push(lesson);
      });
      for (let i = 0; i < missing.length; i += EMBED_BATCH) {
        const batch = missing.slice(i, i + EMBED_BATCH);
        const computed = await embeddings.embed(batch.map((l) => `${l.text}\n${l.tags.join(' ')}`));
        batch.forEach((lesson, j) => {
          if (computed[j]) out.set(lesson.id, computed[j]!);
        });
        await this.redis.hset(
          key,
          Object.fromEntries(batch.flatMap((l) => (out.has(l.id) ? [[l.id, JSON.stringify(out.get(l.id))]] : []))),
        );
      }
    }
    return out;
  }

  /** Lets `readers` read `owner`'s lessons (read-only), replacing whom it shared with before. */
  async share(owner: string, readers: readonly string[]): Promise<void> {
    const before = await this.redis.smembers(this.keys.tenantLessonReaders(owner));
    const tx = this.redis.multi().del(this.keys.tenantLessonReaders(owner));
    for (const reader of before) tx.srem(this.keys.tenantLessonSources(reader), owner);
    const others = readers.filter((reader) => reader !== owner);
    if (others.length > 0) tx.sadd(this.keys.tenantLessonReaders(owner), ...others);
    for (const reader of others) tx.sadd(this.keys.tenantLessonSources(reader), owner);
    // The readers' indexes must see the change: bump each one's version too.
    for (const reader of new Set([...before, ...others])) tx.incr(this.keys.tenantLessonsVersion(reader));
    await tx.exec();
  }

  /** The tenants `owner` shares its lessons with. */
  async readers(owner: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.tenantLessonReaders(owner))).sort();
  }

  private async readable(tenant: string): Promise<Lesson[]> {
    const sources = await this.sources(tenant);
    const all = await Promise.all(sources.map((source) => this.own(source)));
    return all.flat();
  }

  /** The search index over everything `tenant` reads, rebuilt only when one of those libraries changed. */
  private async index(tenant: string): Promise<LessonIndex> {
    const sources = await this.sources(tenant);
    const versions = await this.redis.mget(...sources.map((source) => this.keys.tenantLessonsVersion(source)));
    const key = sources.map((source, i) => `${source}@${versions[i] ?? 0}`).join(',');
    const cached = this.indexes.get(key);
    if (cached) {
      // Most recently used last, so the oldest entry is the first to go.
      this.indexes.delete(key);
      this.indexes.set(key, cached);
      return cached;
    }
    const index = new LessonIndex(await this.readable(tenant));
    this.indexes.set(key, index);
    for (const old of this.indexes.keys()) {
      if (this.indexes.size <= MAX_CACHED_INDEXES) break;
      this.indexes.delete(old);
    }
    return index;
  }
}

function parseAll(raw: Record<string, string>): Lesson[] {
  return Object.values(raw).map((json) => Lesson.parse(JSON.parse(json)));
}
