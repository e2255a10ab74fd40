import { SandboxUnavailableError } from '@autolab/engine';
import Docker from 'dockerode';

/** Node error codes of a connection that failed or broke: the engine is (for now) out of reach. */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ENOENT', // the unix socket is gone (dockerd stopped or restarting)
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ECONNABORTED',
]);
/** What a proxy in front of the engine (a socket proxy, a TLS terminator) answers while the engine is down. */
const GATEWAY_ERRORS = new Set([502, 503, 504]);
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 2000;

/**
 * Is this error Docker being out of reach (rather than Docker refusing the request)? Connection failures, a socket
 * that hangs up, and the gateway answers of a proxy in front of the engine (502, 503, 504) count. A 500 does not: it
 * is the engine's own answer (a missing runtime, a command that cannot start, a container gVisor has already ended),
 * and it says the same thing on retry.
 */
export function isDockerUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && CONNECTION_ERRORS.has(e.code)) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  if (/socket hang up/i.test(message)) return true;
  return typeof e.statusCode === 'number' && GATEWAY_ERRORS.has(e.statusCode);
}

export interface DockerClientOptions {
  /** Where the engine is; default: dockerode's own reading of DOCKER_HOST (else the local socket). */
  connection?: Docker.DockerOptions;
  /**
   * How long Docker may stay unreachable, counted from the first failed request of an outage, before requests fail
   * with `SandboxUnavailableError`. Once that has happened, further requests fail at once until one succeeds.
   */
  retryMs: number;
  /** Called once when an outage begins (the first failed request after a success). */
  onOutage?: (err: Error) => void;
  /** Called once when a request succeeds again after an outage, with how long Docker was unreachable. */
  onRecovered?: (downMs: number) => void;
}

/**
 * dockerode with bounded retries: every request that fails because the engine is out of reach (see
 * `isDockerUnavailable`) is sent again, with backoff, until it succeeds or the outage has lasted `retryMs`; then it
 * fails with `SandboxUnavailableError`. One place for the policy: every Docker call of the sandboxes and the reaper
 * goes through the modem's `dial`. Pings are probes and are never retried.
 *
 * A request that fails to connect never reached the daemon, so sending it again is safe; one that broke after being
 * sent (a hang-up, a 5xx) is sent again too, which suits Docker's calls here (inspect, list, exec create, start,
 * remove are idempotent or harmless to repeat). A stream that was attached and then cut cannot be resumed; the client
 * records when requests last failed (`lastFailureAt`) so that the sandbox can tell that a command's outcome is
 * unknown and run it again.
 */
export class DockerClient extends Docker {
  /** Start of the current outage (epoch ms), or null while Docker answers. */
  private downSince: number | null = null;
  /** When a request last failed because Docker was out of reach (epoch ms); 0 if never. */
  lastFailureAt = 0;

  constructor(private readonly retry: DockerClientOptions) {
    super(retry.connection);
    const modem = this.modem as { dial: Dial };
    const dial = modem.dial.bind(modem);
    modem.dial = (request, callback) => this.dialWithRetry(dial, request, callback);
  }

  private dialWithRetry(dial: Dial, request: DialRequest, callback: DialCallback): void {
    const retryable = request.path !== '/_ping' && !isReadableStream(request.file);
    let backoff = FIRST_RETRY_MS;
    const attempt = () => {
      // dial() rewrites the request (version prefix, query), so each attempt gets a fresh copy.
      dial({ ...request }, (err, data) => {
        if (!err) {
          this.recovered();
          callback(null, data);
          return;
        }
        if (!isDockerUnavailable(err) || request.abortSignal?.aborted) {
          callback(err, data);
          return;
        }
        const downMs = this.failed(err);
        if (!retryable) {
          callback(err, data);
          return;
        }
        if (downMs >= this.retry.retryMs) {
          callback(
            new SandboxUnavailableError(
              `Docker has been unreachable for ${Math.round(downMs / 1000)} s (${err.message.trim()})`,
              { cause: err },
            ),
            null,
          );
          return;
        }
        setTimeout(attempt, Math.min(backoff, this.retry.retryMs - downMs));
        backoff = Math.min(backoff * 2, MAX_RETRY_MS);
      });
    };
    attempt();
  }

  /** One ping, never retried, given up after `timeoutMs` (a remote engine may not even refuse the connection). */
  async reachable(timeoutMs: number): Promise<boolean> {
    const ping = this.ping as unknown as (options: { abortSignal: AbortSignal }) => Promise<unknown>;
    return ping.call(this, { abortSignal: AbortSignal.timeout(timeoutMs) }).then(
      () => true,
      () => false,
    );
  }

  /** Records a failure; returns how long the current outage has lasted. */
  private failed(err: Error): number {
    const now = Date.now();
    this.lastFailureAt = now;
    if (this.downSince === null) {
      this.downSince = now;
      this.retry.onOutage?.(err);
    }
    return now - this.downSince;
  }

  private recovered(): void {
    if (this.downSince === null) return;
    const downMs = Date.now() - this.downSince;
    this.downSince = null;
    this.retry.onRecovered?.(downMs);
  }
}

interface DialRequest {
  path: string;
  file?: unknown;
  abortSignal?: AbortSignal;
  [key: string]: unknown;
}
type DialCallback = (err: (Error & { statusCode?: number }) | null, data: unknown) => void;
type Dial = (request: DialRequest, callback: DialCallback) => void;

function isReadableStream(value: unknown): boolean {
  return typeof (value as { pipe?: unknown } | undefined)?.pipe === 'function';
}
