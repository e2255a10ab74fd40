import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

// GCRA ("generic cell rate algorithm"), the leaky bucket as one timestamp per key: requests are spaced `interval`
// ms apart on average, and up to `limit` may come in a burst. The clock is Redis's (TIME), so every API process
// shares one view of each key however their own clocks drift. Returns 0 when allowed, else ms until the next one is.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat - burst
if now < allowAt then return allowAt - now end
local nextTat = tat + interval
redis.call('SET', KEYS[1], nextTat, 'PX', nextTat - now + 1000)
return 0
`;

/** The script as a command of the client: sent by its SHA1 (`EVALSHA`), its text only once per connection. */
type GcraClient = Redis & {
  autolabGcra(key: string, intervalMs: string, burstMs: string): Promise<number>;
};

function withGcra(redis: Redis): GcraClient {
  const client = redis as GcraClient;
  if (typeof client.autolabGcra !== 'function')
    client.defineCommand('autolabGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
  return client;
}

/** A per-key limit of `perMinute` requests a minute, shared by every API process through Redis. */
export class RateLimiter {
  private readonly intervalMs: number;
  private readonly redis: GcraClient;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    readonly perMinute: number,
  ) {
    this.redis = withGcra(redis);
    // Whole milliseconds: Lua would print a fractional timestamp with too few digits.
    this.intervalMs = Math.max(1, Math.round(60_000 / perMinute));
  }

  /** Counts one request of `keyId`; `retryAfterMs` > 0 means it is over the limit and must be refused. */
  async hit(keyId: string): Promise<{ allowed: boolean; retryAfterMs: number }> {
    const wait = Number(
      await this.redis.autolabGcra(
        this.keys.rateLimit(keyId),
        String(this.intervalMs),
        String(this.intervalMs * (perMinuteBurst(this.perMinute) - 1)),
      ),
    );
    return { allowed: wait <= 0, retryAfterMs: Math.max(0, wait) };
  }
}

/** Up to a minute's allowance may be spent in one burst. */
const perMinuteBurst = (perMinute: number) => Math.max(1, Math.floor(perMinute));
