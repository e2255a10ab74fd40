import { createHash } from 'node:crypto';
import { MODEL_MODES, type ModelMode } from '@autolab/contracts';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/**
 * The deployment's memory of how each model endpoint takes tool calls (the llm package's `ModeCache`): what `auto`
 * found out once (a server that refuses tools, a model that writes its calls as text) is where its next runs
 * start, for `ttlMs` (a model or server updated since may do better; after the TTL the next run finds out anew). One
 * hash; the field is a digest of base URL and model, so a URL with credentials in it is never stored; the value is
 * `<mode> <epoch ms when found>`.
 */
export class ModelModeStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  async get(endpoint: string): Promise<ModelMode | null> {
    const value = await this.redis.hget(this.keys.modelModes(), digest(endpoint));
    const [mode, at] = (value ?? '').split(' ');
    if (!(MODEL_MODES as readonly string[]).includes(mode ?? '')) return null;
    // Entries without a time (written before the TTL existed) count as expired.
    const foundAt = Number(at);
    return Number.isFinite(foundAt) && this.now() - foundAt < this.ttlMs ? (mode as ModelMode) : null;
  }

  async set(endpoint: string, mode: ModelMode): Promise<void> {
    await this.redis.hset(this.keys.modelModes(), digest(endpoint), `${mode} ${this.now()}`);
  }
}

const digest = (endpoint: string): string => createHash('sha256').update(endpoint).digest('hex').slice(0, 32);
