import type { ApiClient, FollowOptions } from '@autolab/api-client';
import type { DisplayConfig } from './config.js';
import type { ClockOptions } from './human-format.js';

/** A stream that is a terminal. */
export interface Tty {
  /** Its width now (read again for every frame: windows get resized). */
  columns(): number;
}

/** Where a command writes. Lines carry their own `\n`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
  /** Set when stdout is a terminal: `watch` then draws its live view there. */
  stdoutTty?: Tty | null;
  /** Set when stderr is a terminal: `download` then shows its progress there. */
  stderrTty?: Tty | null;
  /**
   * Calls `handler` on Ctrl-C (SIGINT, SIGTERM) instead of the default exit, so a command can restore the terminal
   * and remove half-written files first; returns the function that removes the handler.
   */
  onInterrupt?(handler: () => void): () => void;
}

/** Timing of the live displays (tests shorten or freeze them). */
export interface LiveOptions {
  /**
   * Least time between two redraws of the live view or a progress bar.
   * @defaultValue 100
   */
  frameIntervalMs: number;
  /**
   * Redraws without news, so the elapsed time keeps moving.
   * @defaultValue 1000
   */
  tickMs: number;
  /** @defaultValue `Date.now` */
  now: () => number;
}

export const DEFAULT_LIVE_OPTIONS: LiveOptions = { frameIntervalMs: 100, tickMs: 1000, now: () => Date.now() };

/** Everything a command needs, built once per invocation. */
export interface CliContext {
  client: ApiClient;
  io: Io;
  /** Overrides of the reconnect policy (tests shorten the delays). */
  follow: Partial<FollowOptions>;
  clock: ClockOptions;
  display: DisplayConfig;
  live: LiveOptions;
}
