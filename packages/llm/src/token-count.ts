/**
 * Token counts for servers that report no usage (several local ones), so that token caps and budgets still bind.
 * The counts use OpenAI's tokenizers (gpt-tokenizer, ranks bundled in the package: nothing is downloaded): `o200k_base`
 * for the model families that use it (gpt-4o, gpt-4.1, gpt-4.5, gpt-5, the o-series, gpt-oss), `cl100k_base` for
 * every other model. For other families (Llama, Qwen, Mistral, …) that is an approximation, usually within ~10 % of
 * their own tokenizers on English and code; the figures are marked as estimates wherever they are shown.
 */

export type Encoding = 'o200k_base' | 'cl100k_base';

/** `openai/gpt-4o` (OpenRouter), `azure/gpt-4.1`: the family is the name after the provider. */
const O200K_FAMILY = /^(?:[\w.-]+\/)?(?:gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o\d)(?:\b|[-_.:])/i;

export const encodingFor = (model: string): Encoding => (O200K_FAMILY.test(model) ? 'o200k_base' : 'cl100k_base');

type Encode = (text: string) => number[];
const encoders = new Map<Encoding, Promise<{ encode: Encode }>>();

/** The encoder, loaded on first use (the ranks are a few MB of JavaScript; a worker whose server reports usage never loads them). */
function encoder(encoding: Encoding): Promise<{ encode: Encode }> {
  let loading = encoders.get(encoding);
  if (!loading) {
    loading = (async () => {
      const { encode } =
        encoding === 'o200k_base'
          ? await import('gpt-tokenizer/encoding/o200k_base')
          : await import('gpt-tokenizer/encoding/cl100k_base');
      // Special tokens in the text (`<|endoftext|>`) are counted as the text they are, as a server reads them.
      return { encode: (text: string) => encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() }) };
    })();
    encoders.set(encoding, loading);
  }
  return loading;
}

/** A part of a user message, in the shape both LangChain and the OpenAI SDK take. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

/** A chat message as sent: its role and its text, or its parts (text and images). */
export interface CountedMessage {
  role: string;
  content: string | ContentPart[];
}

/**
 * What an image costs: a figure-sized image at OpenAI's high detail (four 512-pixel tiles at 170 tokens and 85 for
 * the image). Other sizes and other vendors cost otherwise; the count is an estimate like the rest.
 */
export const IMAGE_TOKENS = 765;

/**
 * Per OpenAI's counting of chat requests: every message costs its role and content plus 3 tokens of framing, and
 * every reply is primed with 3 more. Tool definitions and a `response_format` schema are counted as their JSON (how
 * a server renders them into the prompt is its own; the JSON is close).
 */
const TOKENS_PER_MESSAGE = 3;
const REPLY_PRIMING = 3;

export async function countPromptTokens(
  model: string,
  messages: CountedMessage[],
  extras: unknown[] = [],
): Promise<number> {
  const enc = await encoder(encodingFor(model));
  let tokens = REPLY_PRIMING;
  for (const message of messages) {
    tokens += TOKENS_PER_MESSAGE + enc.encode(message.role).length;
    const parts =
      typeof message.content === 'string' ? [{ type: 'text', text: message.content } as const] : message.content;
    for (const part of parts) tokens += part.type === 'text' ? enc.encode(part.text).length : IMAGE_TOKENS;
  }
  for (const extra of extras) tokens += enc.encode(JSON.stringify(extra)).length;
  return tokens;
}

/** The reply's tokens: its text, and each tool call's name and arguments. */
export async function countReplyTokens(model: string, text: string): Promise<number> {
  return (await encoder(encodingFor(model))).encode(text).length;
}
