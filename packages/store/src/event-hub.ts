import type { RunEvent } from '@autolab/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';
import { compareStreamIds, parseEvent, type RunStore } from './run-store.js';

type Listener = (event: RunEvent) => void;

interface Watch {
  /** The hub has delivered every event up to and including this id. */
  position: string;
  listeners: Set<Listener>;
}

/**
 * Tails the event logs of every watched run with ONE blocking Redis connection, however many clients watch:
 * a single XREAD over all watched streams, fanned out to listeners in this process.
 */
export class EventHub {
  private readonly watches = new Map<string, Watch>();
  private running = false;
  private loop: Promise<void> | null = null;
  private blockingClientId: number | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly blocking: Redis,
    private readonly control: Redis,
    private readonly keys: RedisKeys,
    private readonly store: RunStore,
  ) {
    // Each (re)connection of the blocking client has a new id. 'ready' is emitted before ioredis resends an XREAD
    // that was pending when the connection dropped, so this CLIENT ID is answered first, not after that XREAD.
    blocking.on('ready', () => {
      this.blockingClientId = null;
      blocking.client('ID').then(
        (id) => {
          this.blockingClientId = id as number;
        },
        () => undefined,
      );
    });
  }

  /**
   * Calls `listener` with every event after `afterId` exactly once, in order: first the backlog, then live events.
   * Returns a function that stops the subscription.
   */
  async subscribe(runId: string, afterId: string, listener: Listener): Promise<() => void> {
    this.start();
    // Register before reading the backlog; buffer live events until the backlog is out, so nothing falls between.
    const buffered: RunEvent[] = [];
    let replaying = true;
    let delivered = afterId;
    const deliver = (event: RunEvent) => {
      if (compareStreamIds(event.id, delivered) <= 0) return;
      delivered = event.id;
      listener(event);
    };
    const live: Listener = (event) => (replaying ? buffered.push(event) : deliver(event));
    const position = await this.watch(runId, live);
    try {
      let cursor = afterId;
      while (compareStreamIds(cursor, position) < 0) {
        const page = await this.store.readEvents(runId, cursor, 500, position);
        if (page.length === 0) break;
        for (const event of page) deliver(event);
        cursor = page[page.length - 1]!.id;
      }
    } catch (err) {
      // Redis went away while the backlog was read: no half subscription stays behind, buffering forever.
      this.unwatch(runId, live);
      throw err;
    }
    replaying = false;
    for (const event of buffered) deliver(event);
    return () => this.unwatch(runId, live);
  }

  private async watch(runId: string, listener: Listener): Promise<string> {
    const existing = this.watches.get(runId);
    if (existing) {
      existing.listeners.add(listener);
      return existing.position;
    }
    const position = await this.store.lastEventId(runId);
    const raced = this.watches.get(runId);
    if (raced) {
      raced.listeners.add(listener);
      return raced.position;
    }
    this.watches.set(runId, { position, listeners: new Set([listener]) });
    // If the read loop cannot be woken now (Redis is going away), it takes the new watch in after its current read.
    await this.interrupt().catch(() => undefined);
    return position;
  }

  private unwatch(runId: string, listener: Listener): void {
    const watch = this.watches.get(runId);
    if (!watch) return;
    watch.listeners.delete(listener);
    if (watch.listeners.size === 0) this.watches.delete(runId);
  }

  /** Makes the blocked XREAD return so the next one includes newly watched runs. */
  private async interrupt(): Promise<void> {
    this.wake?.();
    if (this.blockingClientId !== null) await this.control.client('UNBLOCK', this.blockingClientId);
  }

  private start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /**
   * The one read loop. It survives a Redis outage: a failed read is retried after a pause, and every watch keeps its
   * position (the id of the last event delivered), so reading resumes exactly after it — no event is skipped and none
   * is delivered twice.
   */
  private async run(): Promise<void> {
    while (this.running) {
      const runIds = [...this.watches.keys()];
      if (runIds.length === 0) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
        });
        this.wake = null;
        continue;
      }
      const positions = runIds.map((id) => this.watches.get(id)!.position);
      let reply: [string, [string, string[]][]][] | null;
      try {
        this.blockingClientId ??= (await this.blocking.client('ID')) as number;
        reply = (await this.blocking.xread(
          'COUNT',
          500,
          'BLOCK',
          5000,
          'STREAMS',
          ...runIds.map((id) => this.keys.events(id)),
          ...positions,
        )) as [string, [string, string[]][]][] | null;
      } catch {
        // Redis went away for a moment; ioredis reconnects, the positions are kept.
        if (!this.running) return;
        await new Promise((resolve) => setTimeout(resolve, 500));
        continue;
      }
      for (const [key, entries] of reply ?? []) {
        const runId = runIds[runIds.findIndex((id) => this.keys.events(id) === key)]!;
        const watch = this.watches.get(runId);
        if (!watch) continue;
        for (const [id, fields] of entries) {
          if (compareStreamIds(id, watch.position) <= 0) continue;
          watch.position = id;
          const event = parseEvent(runId, id, fields);
          for (const listener of [...watch.listeners]) listener(event);
        }
      }
    }
  }

  async close(): Promise<void> {
    this.running = false;
    await this.interrupt().catch(() => undefined);
    await this.loop?.catch(() => undefined);
  }
}
