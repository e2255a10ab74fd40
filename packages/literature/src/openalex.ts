import type { LiteraturePaper } from '@autolab/engine';
import { asArray, asInteger, asRecord, asText } from './json-fields.js';
import type { LiteratureProvider, ProviderRequest } from './literature-provider.js';
import { normalizeDoi } from './paper-identity.js';

export const OPENALEX_URL = 'https://api.openalex.org';
const SELECT =
  'id,doi,title,display_name,publication_year,primary_location,authorships,cited_by_count,abstract_inverted_index';
/** The works endpoint's own maximum page size. */
const MAX_PER_PAGE = 200;

export interface OpenAlexOptions {
  /** @defaultValue 'https://api.openalex.org' */
  baseUrl?: string;
  /** Sent as `mailto=`, which puts requests in OpenAlex's "polite pool". */
  mailto?: string;
}

/** OpenAlex's full-text search over works (`/works?search=`). */
export class OpenAlex implements LiteratureProvider {
  readonly name = 'openalex';
  private readonly baseUrl: string;
  private readonly mailto: string | undefined;

  constructor(options: OpenAlexOptions = {}) {
    this.baseUrl = (options.baseUrl ?? OPENALEX_URL).replace(/\/+$/, '');
    this.mailto = options.mailto || undefined;
  }

  request(query: string, limit: number): ProviderRequest {
    const url = new URL(`${this.baseUrl}/works`);
    url.searchParams.set('search', query);
    url.searchParams.set('per-page', String(Math.min(Math.max(1, limit), MAX_PER_PAGE)));
    url.searchParams.set('select', SELECT);
    if (this.mailto) url.searchParams.set('mailto', this.mailto);
    return { url: url.toString(), headers: {} };
  }

  parse(body: unknown): LiteraturePaper[] {
    const results = asRecord(body)?.results;
    if (!Array.isArray(results)) throw new Error('OpenAlex answered without a `results` list');
    return results.flatMap((item) => {
      const paper = mapWork(item);
      return paper ? [paper] : [];
    });
  }
}

function mapWork(item: unknown): LiteraturePaper | null {
  const work = asRecord(item);
  const id = asText(work?.id);
  const title = asText(work?.title) ?? asText(work?.display_name);
  if (!work || !id || !title) return null;
  const location = asRecord(work.primary_location);
  const doi = normalizeDoi(asText(work.doi));
  return {
    id: id.replace(/^https:\/\/openalex\.org\//, ''),
    title,
    authors: asArray(work.authorships).flatMap((a) => {
      const name = asText(asRecord(asRecord(a)?.author)?.display_name);
      return name ? [name] : [];
    }),
    year: asInteger(work.publication_year),
    venue: asText(asRecord(location?.source)?.display_name),
    abstract: abstractFromInvertedIndex(work.abstract_inverted_index),
    url: asText(location?.landing_page_url) ?? (doi ? `https://doi.org/${doi}` : id),
    doi,
    citationCount: asInteger(work.cited_by_count),
  };
}

/**
 * OpenAlex ships abstracts as `{ word: [positions] }` (publishers' terms forbid the plain text); this puts the words
 * back in order.
 */
export function abstractFromInvertedIndex(index: unknown): string | null {
  const entries = asRecord(index);
  if (!entries) return null;
  const words: string[] = [];
  for (const [word, positions] of Object.entries(entries)) {
    for (const position of asArray(positions)) {
      if (typeof position === 'number' && Number.isInteger(position) && position >= 0 && position < 100_000) {
        words[position] = word;
      }
    }
  }
  const text = words
    .filter((w) => w !== undefined)
    .join(' ')
    .trim();
  return text === '' ? null : text;
}
