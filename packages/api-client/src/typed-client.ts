import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

export interface TypedClientOptions {
  /** e.g. `http://127.0.0.1:8080`, or `''` in a browser on the API's own origin. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  fetch?: typeof fetch;
}

/**
 * The raw route client, typed from the API's own OpenAPI document (generated into schema.ts by `npm run generate`):
 * every path, parameter and response body is checked by the compiler, so callers cannot drift from the server.
 * `ApiClient` (api-client.ts) wraps it; use that.
 */
export function createTypedClient(options: TypedClientOptions) {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export type TypedClient = ReturnType<typeof createTypedClient>;
