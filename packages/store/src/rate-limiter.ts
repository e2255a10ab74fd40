import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

// GCRA ("generic cell rate algorithm"), the leaky bucket as one timestamp per key: requests are spaced `interval`
// ms apart on average, and up to `limit` may come in a burst. Unlike a counter per fixed window, there is no window
// edge at which a second full allowance opens: in any span of time at most `limit` + span / `interval` requests pass.
// The clock is Redis's (TIME), so every API process shares one view of each key however their own clocks drift.
// One call first gives back ARGV[4] requests taken earlier and not used (the timestamp moves back by as many
// intervals, never before now), then takes up to ARGV[3] (as many as the bucket allows now, at least one or none).
// Returns {requests taken, requests left in the burst, ms until the bucket is empty (taken) or until the next request
// is allowed (none taken)}.
const GCRA_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') - tonumber(ARGV[4]) * interval
if tat < now then tat = now end
local room = math.floor((now + burst - tat) / interval) + 1
local taken = math.max(0, math.min(want, room))
local nextTat = tat + taken * interval
if nextTat > now then redis.call('SET', KEYS[1], nextTat, 'PX', nextTat - now + 1000) else redis.call('DEL', KEYS[1]) end
if taken == 0 then return {0, 0, tat - burst - now} end
return {taken, math.floor((burst + interval - (nextTat - now)) / interval), nextTat - now}
`;

/** The script as a command of the client: sent by its SHA1 (`EVALSHA`), its text only once per connection. */
type GcraClient = Redis & {
  autolabGcra(
    key: string,
    intervalMs: string,
    burstMs: string,
    want: string,
    giveBack: string,
  ): Promise<[number, number, number]>;
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

/** How long a process may hold requests it took from a bucket before it gives back those it did not use. */
export const LEASE_MS = 1000;
/** A process takes at most this many requests of a bucket at once, and at most this share of its burst. */
const MAX_LEASE = 100;
const LEASE_SHARE = 8;

/** What this process holds of one bucket. */
interface Lease {
  /** Taken from Redis, not used yet; usable until `until`, then given back. */
  held: number;
  until: number;
  /** How many the last take got, and whether they ran out before `until` (then the next take asks for twice as many). */
  taken: number;
  usedUp: boolean;
  /** What Redis reported with the take: left in the bucket besides `held`, and when the bucket is full again. */
  remaining: number;
  fullAt: number;
  /** Refused by Redis: nothing is allowed before then. */
  refusedUntil: number;
  /** The bucket's GCRA parameters, as the script takes them (giving back needs the ones the take used). */
  intervalMs: string;
  burstMs: string;
  pending: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

/**
 * Per-bucket limits of `limit` requests per `windowMs`, bursts up to `limit`, shared by every API process through
 * Redis. A process takes a busy bucket's requests from Redis in batches (a lease: at most an eighth of the burst and
 * at most 100, doubling while the last one ran out early) and spends them locally for up to `LEASE_MS`, then gives
 * back what it did not use: a key sending thousands of requests a second costs Redis a few calls a second, not one
 * per request. Nothing lets more through than the limit (every request is taken from Redis before it is allowed);
 * with several API processes a caller can be refused slightly early, while another process holds part of its burst,
 * for at most `LEASE_MS`. A refusal is remembered until the bucket allows again, so a flood of refused requests costs
 * Redis nothing either. A bucket used one request at a time is taken one at a time, exactly as without leases.
 */
export class RateLimiter {
  private readonly redis: GcraClient;
  private readonly leases = new Map<string, Lease>();

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withGcra(redis);
  }

  /** Counts one request of `bucket` (an API key id, or `unauthenticated:<address>`). */
  async hit(bucket: string, limit: number, windowMs: number): Promise<RateLimitHit> {
    for (;;) {
      const lease = this.leaseOf(bucket, limit, windowMs);
      const now = Date.now();
      if (lease.held > 0 && now < lease.until) {
        lease.held--;
        if (lease.held === 0) lease.usedUp = true;
        return { allowed: true, remaining: lease.remaining + lease.held, waitMs: Math.max(0, lease.fullAt - now) };
      }
      if (now < lease.refusedUntil) return { allowed: false, remaining: 0, waitMs: lease.refusedUntil - now };
      lease.pending ??= this.take(bucket, lease, limit).finally(() => {
        lease.pending = null;
      });
      await lease.pending;
    }
  }

  private leaseOf(bucket: string, limit: number, windowMs: number): Lease {
    let lease = this.leases.get(bucket);
    if (!lease) {
      const burst = Math.max(1, Math.floor(limit));
      // Whole milliseconds: Lua would print a fractional timestamp with too few digits.
      const intervalMs = Math.max(1, Math.round(windowMs / burst));
      lease = {
        held: 0,
        until: 0,
        taken: 0,
        usedUp: false,
        remaining: 0,
        fullAt: 0,
        refusedUntil: 0,
        intervalMs: String(intervalMs),
        burstMs: String(intervalMs * (burst - 1)),
        pending: null,
        timer: null,
      };
      this.leases.set(bucket, lease);
    }
    return lease;
  }

  /** Takes the next batch of the bucket's requests from Redis, giving back in the same call what the last one left. */
  private async take(bucket: string, lease: Lease, limit: number): Promise<void> {
    const maxLease = Math.max(1, Math.min(MAX_LEASE, Math.floor(limit / LEASE_SHARE)));
    // Twice the last batch if it ran out before its time, else as many as were used of it (at least one).
    const want = Math.min(maxLease, lease.usedUp ? lease.taken * 2 : Math.max(1, lease.taken - lease.held));
    const giveBack = lease.held;
    lease.held = 0;
    this.clearTimer(lease);
    const [taken, remaining, waitMs] = await this.redis.autolabGcra(
      this.keys.rateLimit(bucket),
      lease.intervalMs,
      lease.burstMs,
      String(want),
      String(giveBack),
    );
    const now = Date.now();
    lease.taken = taken;
    lease.usedUp = false;
    if (taken === 0) {
      lease.refusedUntil = now + Math.max(1, waitMs);
      this.expireAt(bucket, lease, lease.refusedUntil);
      return;
    }
    lease.held = taken;
    lease.until = now + LEASE_MS;
    lease.remaining = Math.max(0, remaining);
    lease.fullAt = now + Math.max(0, waitMs);
    this.expireAt(bucket, lease, lease.until);
  }

  private clearTimer(lease: Lease): void {
    if (lease.timer) clearTimeout(lease.timer);
    lease.timer = null;
  }

  /** At `at` the bucket's state is dropped (a later hit starts anew) and what it still holds goes back to Redis. */
  private expireAt(bucket: string, lease: Lease, at: number): void {
    this.clearTimer(lease);
    lease.timer = setTimeout(() => {
      lease.timer = null;
      if (lease.pending) return; // a take is under way, and gives back what is held
      this.leases.delete(bucket);
      if (lease.held === 0) return;
      const giveBack = String(lease.held);
      lease.held = 0;
      this.redis
        .autolabGcra(this.keys.rateLimit(bucket), lease.intervalMs, lease.burstMs, '0', giveBack)
        .catch(() => undefined); // lost: those requests stay counted, as if they had been made
    }, at - Date.now());
    lease.timer.unref();
  }
}
