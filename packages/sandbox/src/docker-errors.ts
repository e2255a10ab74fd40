import { SandboxUnavailableError } from '@autolab/engine';
import { isDockerUnavailable } from './docker-client.js';

/**
 * What a failed Docker API call says, whatever shape dockerode gave it: an HTTP error (`statusCode`, `reason`, a
 * `json` body with `message`, or a body that is not JSON), a socket error (`code`, `syscall`, `address`), or a plain
 * Error. Never empty.
 */
export function describeDockerError(err: unknown): string {
  if (!(err instanceof Error)) return String(err) || 'unknown error';
  const e = err as Error & {
    statusCode?: number;
    reason?: string;
    json?: unknown;
    code?: string;
    syscall?: string;
    address?: string;
  };
  const parts: string[] = [];
  const bodyMessage =
    e.json && typeof e.json === 'object' && 'message' in e.json ? String((e.json as { message: unknown }).message) : '';
  const body = bodyMessage || (typeof e.json === 'string' ? e.json : '') || bodyText(e.json);
  if (e.statusCode !== undefined) {
    parts.push(`Docker answered HTTP ${e.statusCode}${e.reason ? ` (${e.reason})` : ''}`);
    if (body.trim()) parts.push(body.trim());
  } else if (e.message.trim()) {
    parts.push(e.message.trim());
  }
  if (e.code && !parts.join(' ').includes(e.code)) parts.push(e.code);
  if (e.syscall && e.address && !parts.join(' ').includes(e.address)) parts.push(`${e.syscall} ${e.address}`);
  if (parts.length === 0) parts.push(e.name || 'unknown error');
  return parts.join(': ');
}

function bodyText(json: unknown): string {
  if (Buffer.isBuffer(json)) return json.toString('utf8');
  return '';
}

/**
 * True when the error says the Docker engine is unreachable: the retrying client gave up (`SandboxUnavailableError`),
 * or the connection itself failed or a proxy in front of it answered that it is down (see `isDockerUnavailable`),
 * anywhere in its chain of causes. An answer of the engine itself (a 500 included) is not. Such errors are never
 * the experiment's fault: they must reach the run's own handling as they are, not become a failed node.
 */
export function isDockerUnreachable(err: unknown): boolean {
  for (let e = err as { cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e instanceof SandboxUnavailableError || isDockerUnavailable(e)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/** The container is gone or stopped (404 no such container, 409 not running). */
export function isContainerGone(err: unknown): boolean {
  const status = (err as { statusCode?: number } | undefined)?.statusCode;
  return status === 404 || status === 409;
}
