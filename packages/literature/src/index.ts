import type { LiteratureSearch } from '@autolab/engine';
import { LiteratureClient, type LiteratureClientOptions } from './literature-client.js';
import type { LiteratureProvider, LiteratureProviderName } from './literature-provider.js';
import { OpenAlex } from './openalex.js';
import { SemanticScholar } from './semantic-scholar.js';

export { LiteratureClient, type LiteratureClientOptions, type LiteratureLogger } from './literature-client.js';
export type { LiteratureProvider, LiteratureProviderName, ProviderRequest } from './literature-provider.js';
export { abstractFromInvertedIndex, OPENALEX_URL, OpenAlex, type OpenAlexOptions } from './openalex.js';
export { dedupePapers, normalizeDoi, normalizeTitle } from './paper-identity.js';
export { SEMANTIC_SCHOLAR_URL, SemanticScholar, type SemanticScholarOptions } from './semantic-scholar.js';

export interface LiteratureSearchConfig {
  /** @defaultValue 'https://api.semanticscholar.org' */
  semanticScholarUrl?: string;
  /** @defaultValue 'https://api.openalex.org' */
  openAlexUrl?: string;
  semanticScholarApiKey?: string;
  /** An address OpenAlex may write to; it earns the faster "polite pool". */
  openAlexMailto?: string;
  /** Per-request timeout. @defaultValue 10_000 */
  timeoutMs?: number;
  /** Services to ask, in order. @defaultValue ['semantic_scholar', 'openalex'] */
  providers?: LiteratureProviderName[];
  /** Retry, cooldown and logging settings beyond the above. */
  client?: Omit<LiteratureClientOptions, 'timeoutMs'>;
}

/** The literature search the engine's `literature` port expects, from configuration. */
export function createLiteratureSearch(config: LiteratureSearchConfig = {}): LiteratureSearch {
  const names = [...new Set<LiteratureProviderName>(config.providers ?? ['semantic_scholar', 'openalex'])];
  const build: Record<LiteratureProviderName, () => LiteratureProvider> = {
    semantic_scholar: () =>
      new SemanticScholar({ baseUrl: config.semanticScholarUrl, apiKey: config.semanticScholarApiKey }),
    openalex: () => new OpenAlex({ baseUrl: config.openAlexUrl, mailto: config.openAlexMailto }),
  };
  const providers = names.map((name) => {
    const make = build[name] as (() => LiteratureProvider) | undefined;
    if (!make) throw new Error(`unknown literature provider "${name}" (known: ${Object.keys(build).join(', ')})`);
    return make();
  });
  return new LiteratureClient(providers, { ...config.client, timeoutMs: config.timeoutMs });
}
