import type { ApiClient } from './api-client.js';
import type { FollowOptions } from './event-follower.js';
import type { ClockOptions } from './human-format.js';

/** Where a command writes. Lines carry their own `\n`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

/** Everything a command needs, built once per invocation. */
export interface CliContext {
  client: ApiClient;
  io: Io;
  /** Overrides of the reconnect policy (tests shorten the delays). */
  follow: Partial<FollowOptions>;
  clock: ClockOptions;
}
