import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

// GCRA ("generic cell rate algorithm"), the leaky bucket as one timestamp per key: requests are spaced `interval`
// ms apart on average, and up to `limit` may come in a burst. Unlike a counter per fixed window, there is no window
// edge at which a second full allowance opens: in any span of time at most `limit` + span / `interval` requests pass.
// The clock is Redis's (TIME), so every API process shares one view of each key however their own clocks drift.
// Returns {allowed (1/0), requests left in the burst, ms until the bucket is empty (allowed) or until the next
// request is allowed (refused)}.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local allowAt = tat - burst
if now < allowAt then return {0, 0, allowAt - now} end
local nextTat = tat + interval
redis.call('SET', KEYS[1], nextTat, 'PX', nextTat - now + 1000)
return {1, math.floor((burst + interval - (nextTat - now)) / interval), nextTat - now}
`;

/** The script as a command of the client: sent by its SHA1 (`EVALSHA`), its text only once per connection. */
type GcraClient = Redis & {
  autolabGcra(key: string, intervalMs: string, burstMs: string): Promise<[number, number, number]>;
};

function withGcra(redis: Redis): GcraClient {
  const client = redis as GcraClient;
  if (typeof client.autolabGcra !== 'function')
    client.defineCommand('autolabGcra', { numberOfKeys: 1, lua: GCRA_SCRIPT });
  return client;
}

export interface RateLimitHit {
  allowed: boolean;
  /** Requests the bucket still allows at once (0 when refused). */
  remaining: number;
  /** Refused: ms until the next request is allowed. Allowed: ms until the bucket is back to its full burst. */
  waitMs: number;
}

/**
 * Per-bucket limits of `limit` requests per `windowMs`, bursts up to `limit`, shared by every API process through
 * Redis: one `EVALSHA` per request.
 */
export class RateLimiter {
  private readonly redis: GcraClient;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withGcra(redis);
  }

  /** Counts one request of `bucket` (an API key id, or `unauthenticated:<address>`). */
  async hit(bucket: string, limit: number, windowMs: number): Promise<RateLimitHit> {
    const burst = Math.max(1, Math.floor(limit));
    // Whole milliseconds: Lua would print a fractional timestamp with too few digits.
    const intervalMs = Math.max(1, Math.round(windowMs / burst));
    const [allowed, remaining, waitMs] = await this.redis.autolabGcra(
      this.keys.rateLimit(bucket),
      String(intervalMs),
      String(intervalMs * (burst - 1)),
    );
    return { allowed: allowed === 1, remaining: Math.max(0, remaining), waitMs: Math.max(0, waitMs) };
  }
}
