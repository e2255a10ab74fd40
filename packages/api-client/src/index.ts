import createClient from 'openapi-fetch';
import type { paths } from './schema.js';

export type { components, paths } from './schema.js';

export interface ApiClientOptions {
  /** e.g. `http://127.0.0.1:8080`, or `''` in a browser on the API's own origin. */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  fetch?: typeof fetch;
}

/**
 * A client typed from the API's own OpenAPI document (generated into schema.ts by `npm run generate`): every path,
 * parameter and response body is checked by the compiler, so callers cannot drift from the server.
 */
export function createApiClient(options: ApiClientOptions) {
  return createClient<paths>({
    baseUrl: options.baseUrl,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

export type ApiClient = ReturnType<typeof createApiClient>;
