import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

const MODES = ['tools', 'json', 'text'] as const;
type StoredModelMode = (typeof MODES)[number];

/**
 * The deployment's memory of how each model endpoint takes tool calls (the llm package's `ModeCache`): what `auto`
 * found out once (a server that refuses tools, a model that writes its calls as text) is where its next runs
 * start. One hash; the field is a digest of base URL and model, so a URL with credentials in it is never stored.
 */
export class ModelModeStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  async get(endpoint: string): Promise<StoredModelMode | null> {
    const mode = await this.redis.hget(this.keys.modelModes(), digest(endpoint));
    return (MODES as readonly string[]).includes(mode ?? '') ? (mode as StoredModelMode) : null;
  }

  async set(endpoint: string, mode: StoredModelMode): Promise<void> {
    await this.redis.hset(this.keys.modelModes(), digest(endpoint), mode);
  }
}

const digest = (endpoint: string): string => createHash('sha256').update(endpoint).digest('hex').slice(0, 32);
