import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelModeStore } from './model-mode-store.js';
import { RedisKeys } from './redis-keys.js';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
const keys = new RedisKeys(`autolab-test-modes-${randomBytes(4).toString('hex')}`);
const HOUR = 3_600_000;

describe('ModelModeStore (real Redis): what auto found out, for a while', () => {
  afterAll(async () => {
    await redis.del(keys.modelModes());
    await redis.quit();
  });

  it('answers the mode until its TTL has passed, then nothing (the next run finds out anew)', async () => {
    let now = Date.parse('2026-12-05T12:00:00Z');
    const store = new ModelModeStore(redis, keys, 24 * HOUR, () => now);
    await store.set('http://ollama:11434/v1 gemma3', 'text');
    expect(await store.get('http://ollama:11434/v1 gemma3')).toBe('text');
    expect(await store.get('http://ollama:11434/v1 llama3.1')).toBeNull();
    now += 23 * HOUR;
    expect(await store.get('http://ollama:11434/v1 gemma3')).toBe('text');
    now += 2 * HOUR;
    expect(await store.get('http://ollama:11434/v1 gemma3')).toBeNull();
    // Found out again: remembered afresh.
    await store.set('http://ollama:11434/v1 gemma3', 'tools');
    expect(await store.get('http://ollama:11434/v1 gemma3')).toBe('tools');
  });

  it('never stores the endpoint itself (a URL may carry credentials), and reads a value without a time as expired', async () => {
    const store = new ModelModeStore(redis, keys, 24 * HOUR);
    const endpoint = 'https://user:secret@gateway.example/v1 m';
    await store.set(endpoint, 'json');
    expect(await store.get(endpoint)).toBe('json');
    const stored = await redis.hgetall(keys.modelModes());
    expect(JSON.stringify(stored)).not.toMatch(/secret|gateway/);
    // As written before modes expired: the mode alone.
    for (const field of Object.keys(stored)) await redis.hset(keys.modelModes(), field, 'json');
    expect(await store.get(endpoint)).toBeNull();
  });
});
