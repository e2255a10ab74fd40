import type { LiteraturePaper } from '@autolab/engine';
import { asArray, asInteger, asRecord, asText } from './json-fields.js';
import type { LiteratureProvider, ProviderRequest } from './literature-provider.js';
import { normalizeDoi } from './paper-identity.js';

export const SEMANTIC_SCHOLAR_URL = 'https://api.semanticscholar.org';
const FIELDS = 'paperId,title,authors,year,venue,abstract,externalIds,url,citationCount';
/** The search endpoint's own maximum page size. */
const MAX_LIMIT = 100;

export interface SemanticScholarOptions {
  /** @defaultValue 'https://api.semanticscholar.org' */
  baseUrl?: string;
  /** Sent as `x-api-key`; without one, requests share the public rate limit. */
  apiKey?: string;
}

/** The Semantic Scholar Graph API's relevance search (`/graph/v1/paper/search`). */
export class SemanticScholar implements LiteratureProvider {
  readonly name = 'semantic_scholar';
  private readonly baseUrl: string;
  // A private slot, so the key never shows up when the provider is logged or serialized.
  readonly #apiKey: string | undefined;

  constructor(options: SemanticScholarOptions = {}) {
    this.baseUrl = (options.baseUrl ?? SEMANTIC_SCHOLAR_URL).replace(/\/+$/, '');
    this.#apiKey = options.apiKey || undefined;
  }

  request(query: string, limit: number): ProviderRequest {
    const url = new URL(`${this.baseUrl}/graph/v1/paper/search`);
    // The search has no query syntax, and hyphenated terms match nothing.
    url.searchParams.set('query', query.replace(/-/g, ' '));
    url.searchParams.set('limit', String(Math.min(Math.max(1, limit), MAX_LIMIT)));
    url.searchParams.set('fields', FIELDS);
    return { url: url.toString(), headers: this.#apiKey ? { 'x-api-key': this.#apiKey } : {} };
  }

  parse(body: unknown): LiteraturePaper[] {
    const data = asRecord(body)?.data;
    // With no match the service sends `{ total: 0, offset: 0 }` and no `data` at all.
    if (data === undefined && asInteger(asRecord(body)?.total) === 0) return [];
    if (!Array.isArray(data)) throw new Error('Semantic Scholar answered without a `data` list');
    return data.flatMap((item) => {
      const paper = mapPaper(item);
      return paper ? [paper] : [];
    });
  }
}

function mapPaper(item: unknown): LiteraturePaper | null {
  const record = asRecord(item);
  const id = asText(record?.paperId);
  const title = asText(record?.title);
  if (!record || !id || !title) return null;
  return {
    id,
    title,
    authors: asArray(record.authors).flatMap((a) => {
      const name = asText(asRecord(a)?.name);
      return name ? [name] : [];
    }),
    year: asInteger(record.year),
    venue: asText(record.venue),
    abstract: asText(record.abstract),
    url: asText(record.url),
    doi: normalizeDoi(asText(asRecord(record.externalIds)?.DOI)),
    citationCount: asInteger(record.citationCount),
  };
}
