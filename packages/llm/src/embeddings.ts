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

  async embed(texts: string[]): Promise<number[][]> {
    try {
      return await this.client.embedDocuments(texts);
    } catch (err) {
      throw withoutKey(err, this.options.apiKey);
    }
  }
}

/**
 * The endpoint's error without the key: a proxy's error message may quote the request's Authorization header, and
 * the message goes to logs and to a run's warning. A fresh error (not the client's, whose fields hold the response
 * body) with the message and the HTTP status.
 */
function withoutKey(err: unknown, apiKey: string): unknown {
  if (!(err instanceof Error) || apiKey.length < 8 || !err.message.includes(apiKey)) return err;
  const safe = new Error(err.message.split(apiKey).join('[redacted]')) as Error & { status?: unknown };
  safe.name = err.name;
  if ('status' in err) safe.status = err.status;
  return safe;
}
