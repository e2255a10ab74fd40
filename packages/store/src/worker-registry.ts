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

/** Workers announce themselves with a key that expires unless refreshed: a missing key means a dead worker. */
export class WorkerRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async beat(heartbeat: Omit<WorkerHeartbeat, 'seenAt'>, ttlMs: number): Promise<void> {
    const value: WorkerHeartbeat = { ...heartbeat, seenAt: new Date().toISOString() };
    await this.redis.set(this.keys.worker(heartbeat.workerId), JSON.stringify(value), 'PX', ttlMs);
  }

  async remove(workerId: string): Promise<void> {
    await this.redis.del(this.keys.worker(workerId));
  }

  async isAlive(workerId: string): Promise<boolean> {
    return (await this.redis.exists(this.keys.worker(workerId))) === 1;
  }

  async list(): Promise<WorkerHeartbeat[]> {
    const found: WorkerHeartbeat[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.keys.workerPattern(), 'COUNT', 100);
      cursor = next;
      if (keys.length > 0) {
        for (const raw of await this.redis.mget(...keys)) if (raw) found.push(JSON.parse(raw));
      }
    } while (cursor !== '0');
    return found;
  }
}
