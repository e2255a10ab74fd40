import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

export interface WorkerHeartbeat {
  workerId: string;
  host: string;
  pid: number;
  startedAt: string;
  concurrency: number;
  activeRuns: string[];
  dockerOk: boolean;
  seenAt: string;
}

/**
 * Workers announce themselves with a key that expires unless refreshed: a missing key means a dead worker. An index
 * set names them, so listing them (every /healthz) reads two keys instead of scanning the whole keyspace.
 */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async beat(heartbeat: Omit<WorkerHeartbeat, 'seenAt'>, ttlMs: number): Promise<void> {
    const value: WorkerHeartbeat = { ...heartbeat, seenAt: new Date().toISOString() };
    await this.redis
      .multi()
      .set(this.keys.worker(heartbeat.workerId), JSON.stringify(value), 'PX', ttlMs)
      .sadd(this.keys.workerIndex(), heartbeat.workerId)
      .exec();
  }

  async remove(workerId: string): Promise<void> {
    await this.redis.multi().del(this.keys.worker(workerId)).srem(this.keys.workerIndex(), workerId).exec();
  }

  async isAlive(workerId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.worker(workerId))) === 1;
  }

  /** The live workers; dead ones (their heartbeat expired) are dropped from the index on the way. */
  async list(): Promise<WorkerHeartbeat[]> {
    const ids = await this.redis.smembers(this.keys.workerIndex());
    if (ids.length === 0) return [];
    const values = await this.redis.mget(...ids.map((id) => this.keys.worker(id)));
    const dead = ids.filter((_, i) => values[i] === null);
    if (dead.length > 0) await this.redis.srem(this.keys.workerIndex(), ...dead);
    return values.filter((value): value is string => value !== null).map((value) => JSON.parse(value));
  }
}
