import { once } from 'node:events';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/**
 * Tells the worker that holds a run to stop it. Pub/sub makes it immediate; the worker also re-reads the
 * `cancelRequested` field of its active runs with every heartbeat, in case it missed the message.
 */
export class CancelSignal {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async request(runId: string): Promise<void> {
    await this.redis.hset(this.keys.run(runId), 'cancelRequested', '1');
    await this.redis.publish(this.keys.cancelChannel(), runId);
  }

  async isRequested(runId: string): Promise<boolean> {
    return (await this.redis.hget(this.keys.run(runId), 'cancelRequested')) === '1';
  }

  /** `subscriber` must be a connection of its own: in subscriber mode it can do nothing else. */
  async listen(subscriber: Redis, onCancel: (runId: string) => void): Promise<void> {
    // Subscribing before the connection's ready check has run breaks that check (it is not a subscriber command).
    if (subscriber.status !== 'ready') await once(subscriber, 'ready');
    await subscriber.subscribe(this.keys.cancelChannel());
    subscriber.on('message', (channel, runId) => {
      if (channel === this.keys.cancelChannel()) onCancel(runId);
    });
  }
}
