import { OpenAIEmbeddings } from '@langchain/openai';

export interface EmbedderOptions {
  model: string;
  baseUrl?: string | undefined;
  apiKey: string;
  timeoutMs: number;
  maxAttempts: number;
}

/**
 * Texts to vectors through an OpenAI-compatible `/v1/embeddings` endpoint (LangChain's OpenAIEmbeddings: batching,
 * retries on 429 and 5xx). Used for hybrid lesson retrieval when AUTOLAB_EMBEDDINGS_MODEL is set (docs/lessons.md).
 */
export class Embedder {
  private readonly client: OpenAIEmbeddings;

  constructor(readonly options: EmbedderOptions) {
    this.client = new OpenAIEmbeddings({
      model: options.model,
      apiKey: options.apiKey || 'not-set',
      timeout: options.timeoutMs,
      maxRetries: Math.max(0, options.maxAttempts - 1),
      configuration: options.baseUrl ? { baseURL: options.baseUrl } : {},
    });
  }

  get model(): string {
    return this.options.model;
  }

  embed(texts: string[]): Promise<number[][]> {
    return this.client.embedDocuments(texts);
  }
}
