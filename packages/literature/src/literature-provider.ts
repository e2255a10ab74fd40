import type { LiteraturePaper } from '@autolab/engine';

/** The services `createLiteratureSearch` knows how to build. */
export type LiteratureProviderName = 'semantic_scholar' | 'openalex';

export interface ProviderRequest {
  url: string;
  /** May carry an API key: never logged. */
  headers: Record<string, string>;
}

/**
 * One literature service, reduced to what differs between services: how a search is asked for and how the answer
 * reads. Transport, timeouts, retries and fallback live in `LiteratureClient`.
 */
export interface LiteratureProvider {
  /** Reported as `LiteratureResult.source`. */
  readonly name: string;
  request(query: string, limit: number): ProviderRequest;
  /** Maps a successful response body. @throws Error when the body is not the expected shape. */
  parse(body: unknown): LiteraturePaper[];
}
