import { UsageError } from './errors.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface CliConfig {
  /** API base URL, always ending in `/` so relative paths resolve beneath it. */
  baseUrl: string;
  apiKey: string | null;
  /** Print stack traces of errors. */
  debug: boolean;
  display: DisplayConfig;
}

/** How much a terminal may be decorated (it still has to be a terminal: see `Io.stdoutTty`). */
export interface DisplayConfig {
  /** Colours in the live view and progress bars; off with `NO_COLOR` (https://no-color.org). */
  color: boolean;
  /** `TERM=dumb`: no cursor movement, so no live view and no progress bars. */
  dumb: boolean;
}

/** The only place the CLI reads its environment. */
export function loadConfig(env: Record<string, string | undefined>): CliConfig {
  const raw = env.AUTOLAB_URL?.trim() || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`AUTOLAB_URL is not a URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`AUTOLAB_URL must be an http(s) URL: ${raw}`);
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return {
    baseUrl: url.href,
    apiKey: env.AUTOLAB_API_KEY?.trim() || null,
    debug: isDebug(env),
    display: loadDisplayConfig(env),
  };
}

export function loadDisplayConfig(env: Record<string, string | undefined>): DisplayConfig {
  const dumb = env.TERM === 'dumb';
  return { color: !dumb && !env.NO_COLOR, dumb };
}

export const isDebug = (env: Record<string, string | undefined>): boolean =>
  env.AUTOLAB_DEBUG === '1' || env.AUTOLAB_DEBUG === 'true';
