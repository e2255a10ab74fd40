import { ErrorBody } from '@autolab/contracts';
import type { RouteOptions } from 'fastify';
import { z } from 'zod';

export const RunParams = z.object({ id: z.string().max(100) });

const error = (description: string) => ErrorBody.describe(description);

export const RunNotFound = error('`run_not_found`: there is no such run (another tenant’s run answers the same).');
export const RunConflict = error(
  '`run_already_finished` / `run_not_finished`: the run is not in a state that allows this.',
);

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/**
 * The error answers a route can give besides its own, by what kind of route it is: the framework's (a URL it cannot
 * decode, a request that is not valid HTTP or arrives too slowly, a body it cannot read; apps/api/src/error-responses.ts), the auth plugin's (no key, a missing scope, the rate limit) and those of an outage.
 * The OpenAPI document adds them to every operation (a route's own entry for a status wins), so that it lists every
 * status an operation can return without each route repeating them.
 */
export function commonErrorResponses(
  route: Pick<RouteOptions, 'method' | 'url' | 'config'>,
): Record<number, z.ZodType> {
  const access = route.config?.access;
  const methods = [route.method].flat();
  const responses: Record<number, z.ZodType> = {
    400: error(
      '`invalid_url`: the URL cannot be decoded; `validation_failed`: a parameter is not valid; `bad_request`: the ' +
        'request is not valid HTTP (e.g. a control character in a header, a bad `Content-Length`).',
    ),
    408: error('`request_timeout`: the request (headers and body) did not arrive within the request timeout.'),
    414: error('`uri_too_long`: the URL, or a path parameter, is longer than the server accepts.'),
    431: error('`headers_too_large`: the request headers are larger than the server accepts.'),
    500: error('`internal_error`: something went wrong on our side (never for bad input).'),
  };
  if (access?.auth !== 'public') {
    Object.assign(responses, {
      401: error('`unauthorized`: no API key, or one that is malformed, unknown, revoked or expired.'),
      403: error('`forbidden`: the key lacks the scope this operation needs (named in the message).'),
      429: error('`rate_limited`: over the per-key (or per-address) request rate; see `Retry-After`.'),
      503: error('`unavailable`: the service cannot reach Redis right now; retry after `Retry-After`.'),
    });
  }
  if (/\/(artifacts|archive)/.test(route.url))
    responses[503] = error(
      '`unavailable`: the service cannot reach Redis right now; `artifact_store_unavailable`: it cannot reach the ' +
        'artifact store (S3); retry after `Retry-After`.',
    );
  if (methods.some((m) => BODY_METHODS.has(m))) {
    Object.assign(responses, {
      400: error(
        '`invalid_json`: the body is not JSON; `validation_failed`: a field is not valid; `invalid_url`: the URL ' +
          'cannot be decoded; `bad_request`: the request is not valid HTTP.',
      ),
      413: error('`payload_too_large`: the body is over the size limit.'),
      415: error('`unsupported_media_type`: send `Content-Type: application/json`.'),
    });
  }
  return responses;
}
