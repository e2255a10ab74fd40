import type { Redis, RedisOptions } from 'ioredis';

/**
 * Options for a client on a request path (the API's): while Redis is unreachable a command fails at once instead of
 * waiting in ioredis's offline queue for a reconnection that may take minutes, and a command sent to a server that
 * stopped answering gives up after `commandTimeoutMs`. The caller answers 503; the client reconnects by itself.
 * Not for blocking commands (XREAD BLOCK, BullMQ workers), which wait longer than any command timeout on purpose.
 */
export function failFastRedisOptions(commandTimeoutMs: number): RedisOptions {
  return { enableOfflineQueue: false, commandTimeout: commandTimeoutMs, maxRetriesPerRequest: 1 };
}

/** Messages of ioredis's own errors for a command that never got an answer. */
const NO_ANSWER = [
  'Command timed out',
  "Stream isn't writeable and enableOfflineQueue options is false",
  'Connection is closed.',
  'Reached the max retries per request limit',
];

/** Replies of a server that is up but cannot serve yet (loading its data after a restart, a failover, …). */
const NOT_SERVING = /^(LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY|BUSY)\b/;

/**
 * True for an error that means "Redis cannot be reached or cannot serve right now" (retrying later may work), as
 * opposed to a bug or a bad command: the API turns these into 503 `unavailable`.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === 'MaxRetriesPerRequestError') return true;
  if (NO_ANSWER.some((m) => err.message.startsWith(m))) return true;
  return err.name === 'ReplyError' && NOT_SERVING.test(err.message);
}

/**
 * Logs one line when `client` loses Redis and one when it has it back, however many reconnection errors come in
 * between (without a listener, ioredis prints every one of them to stderr as an unhandled error event).
 */
export function logRedisConnection(
  client: Redis,
  log: { warn(obj: object, msg: string): void; info(msg: string): void } | null,
  consequence: string,
): void {
  let down = false;
  client.on('error', (err: Error) => {
    if (down) return;
    down = true;
    log?.warn({ err: err.message }, `Redis is unreachable; ${consequence}`);
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    log?.info('Redis is reachable again');
  });
}
