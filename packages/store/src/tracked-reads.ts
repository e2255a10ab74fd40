import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';

/** Redis's channel for the invalidation messages of clients that track with `REDIRECT` (RESP2). */
const INVALIDATION_CHANNEL = '__redis__:invalidate';

export interface TrackedReadsOptions {
  /** Values kept at most (the least recently read go first). */
  maxEntries: number;
  /**
   * A value older than this is read again even though no invalidation came: a bound on staleness should an
   * invalidation ever be lost without either connection noticing (a half-open TCP connection).
   */
  maxAgeMs: number;
  /** Names the two connections (`<name>:reader`, `<name>:invalidations` in CLIENT LIST). */
  name: string;
}

interface Entry<T> {
  /** Which read made it; an invalidation that arrives while a read is in flight drops the entry, so the read's
   * answer (which may predate the write) is not kept. */
  read: number;
  pending: Promise<T> | null;
  value?: T;
  at: number;
}

/**
 * Values read from Redis, kept in this process until Redis says a key they were read from changed: Redis's
 * server-assisted client-side caching ("tracking", two-connection mode). `reader` is a connection with `CLIENT
 * TRACKING ON REDIRECT <id>`: Redis remembers each key it reads and, when any client changes the key, publishes the
 * key's name on `__redis__:invalidate` to the connection `<id>`, this object's `invalidations` connection. Writers
 * need not know about the cache: every change, from any process, invalidates it.
 *
 * Nothing is kept unless both connections are up and tracking is on: when either drops, every value is dropped
 * (Redis does not tell the redirect target that a tracking client went away) and values are kept again only once
 * tracking is back. A read whose key is invalidated while it is in flight answers its callers but is not kept.
 */
export class TrackedReads<T> {
  private readonly reader: Redis;
  private readonly invalidations: Redis;
  private readonly entries: LRUCache<string, Entry<T>>;
  /** True once the reader tracks into the live invalidations connection; false from the moment either drops. */
  private tracking = false;
  /** Bumped whenever tracking stops or restarts: a read started under another generation is not kept. */
  private generation = 0;
  private reads = 0;
  private closed = false;
  /** The invalidations connection's id, once it is subscribed (a subscribed RESP2 connection cannot ask for it). */
  private subscribedId: number | null = null;

  constructor(
    private readonly source: Redis,
    private readonly options: TrackedReadsOptions,
  ) {
    this.entries = new LRUCache({ max: options.maxEntries });
    // Subscribing is done by hand on each connect: the connection's id is needed first, and a subscribed RESP2
    // connection cannot ask for it.
    this.invalidations = source.duplicate({
      autoResubscribe: false,
      lazyConnect: true,
      connectionName: `${options.name}:invalidations`,
    });
    this.reader = source.duplicate({ lazyConnect: true, connectionName: `${options.name}:reader` });
    // The connections' own errors are the request client's too (same server): answered there, not here.
    this.invalidations.on('error', () => undefined);
    this.reader.on('error', () => undefined);
    this.invalidations.on('close', () => {
      this.subscribedId = null;
      this.stopTracking();
    });
    this.reader.on('close', () => this.stopTracking());
    this.invalidations.on('ready', () => void this.subscribe());
    this.reader.on('ready', () => void this.track());
    this.invalidations.on('messageBuffer', (channel: Buffer, keys: unknown) => {
      if (channel.toString() !== INVALIDATION_CHANNEL) return;
      // An array of key names, or null when the whole database was flushed.
      if (!Array.isArray(keys)) this.entries.clear();
      else for (const key of keys) this.entries.delete(String(key));
    });
    this.invalidations.connect().catch(() => undefined);
    this.reader.connect().catch(() => undefined);
  }

  /** Whether values are being kept (both connections up, tracking on); for tests and metrics. */
  get active(): boolean {
    return this.tracking;
  }

  /**
   * The value of `key`: kept, or read by `load` on the connection it is given (`load` must read `key` and only `key`
   * on it: that is what Redis tracks). Callers asking for a key while it is being read share that read. `null` is never kept.
   */
  async read(key: string, load: (redis: Redis) => Promise<T | null>): Promise<T | null> {
    const now = Date.now();
    const entry = this.entries.get(key);
    if (entry && now - entry.at < this.options.maxAgeMs) {
      if (entry.value !== undefined) return entry.value;
      if (entry.pending) return entry.pending;
    }
    // Not tracking: read without keeping, on the reader if it is up, else on the caller's own connection (the
    // reader may still be connecting, or reconnecting after Redis came back, while that one already works).
    if (!this.tracking) return load(this.reader.status === 'ready' ? this.reader : this.source);
    const read = ++this.reads;
    const generation = this.generation;
    const pending = load(this.reader).then((value) => {
      const current = this.entries.get(key);
      if (current?.read !== read) return value;
      if (value !== null && this.tracking && generation === this.generation) {
        this.entries.set(key, { read, pending: null, value, at: current.at });
      } else this.entries.delete(key);
      return value;
    });
    this.entries.set(key, { read, pending: pending as Promise<T>, at: now });
    pending.catch(() => {
      if (this.entries.get(key)?.read === read) this.entries.delete(key);
    });
    return pending;
  }

  /** Drops what is kept for `key` (after this process changed it, so its own next read cannot race the message). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopTracking();
    await Promise.all([this.reader, this.invalidations].map((c) => c.quit().catch(() => c.disconnect())));
  }

  private stopTracking(): void {
    this.tracking = false;
    this.generation++;
    this.entries.clear();
  }

  private async subscribe(): Promise<void> {
    try {
      const id = await this.invalidations.client('ID');
      await this.invalidations.subscribe(INVALIDATION_CHANNEL);
      this.subscribedId = id;
    } catch {
      return; // the connection dropped meanwhile: its next 'ready' starts over
    }
    await this.track();
  }

  /** Points the reader's tracking at the subscribed connection; values are kept from its answer on. */
  private async track(): Promise<void> {
    const id = this.subscribedId;
    if (this.closed || id === null || this.reader.status !== 'ready') return;
    const generation = ++this.generation;
    try {
      await this.reader.call('CLIENT', 'TRACKING', 'ON', 'REDIRECT', String(id));
    } catch {
      // A server without tracking (older than Redis 6, or CLIENT refused): values are simply not kept.
      return;
    }
    // Either connection may have dropped (and come back) meanwhile: then its own 'ready' starts over.
    if (generation === this.generation && id === this.subscribedId && !this.closed) this.tracking = true;
  }
}
