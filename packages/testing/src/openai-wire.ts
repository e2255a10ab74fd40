import { randomBytes } from 'node:crypto';

/**
 * The OpenAI Chat Completions wire format, as the scripted server speaks it: response bodies, stream chunks and
 * error bodies shaped like api.openai.com's, so real clients (the openai SDK under LangChain) parse them unchanged.
 */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** Prompt tokens served from the provider's prefix cache (OpenAI sends it, 0 on a miss). */
  prompt_tokens_details?: { cached_tokens: number };
}

export interface AssistantReply {
  content: string | null;
  toolCall: { id: string; name: string; arguments: string } | null;
  /** Set for a reply cut off at the completion limit. */
  finishReason?: 'length';
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

const SYSTEM_FINGERPRINT = 'fp_scripted';
/** Content and arguments are streamed in about this many pieces, so clients have to reassemble them. */
const STREAM_PIECES = 4;

export const completionId = (): string => `chatcmpl-${randomBytes(12).toString('hex')}`;
export const toolCallId = (): string => `call_${randomBytes(12).toString('hex')}`;

/** `usage` null: the body has no `usage` (as several local servers send it). */
export function completionBody(meta: CompletionMeta, reply: AssistantReply, usage: Usage | null) {
  const message = {
    role: 'assistant',
    content: reply.content,
    refusal: null,
    ...(reply.toolCall
      ? {
          tool_calls: [
            {
              id: reply.toolCall.id,
              type: 'function',
              function: { name: reply.toolCall.name, arguments: reply.toolCall.arguments },
            },
          ],
        }
      : {}),
  };
  return {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason(reply) }],
    ...(usage ? { usage } : {}),
  };
}

/**
 * The `chat.completion.chunk` objects of a streamed answer, in order. With `usage` (the request asked for
 * `stream_options.include_usage`), every chunk carries `usage: null` and a last chunk with no choices carries the
 * numbers, as OpenAI does.
 */
export function completionChunks(meta: CompletionMeta, reply: AssistantReply, usage: Usage | null): object[] {
  const chunk = (delta: object, finish: string | null = null) => ({
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(usage ? { usage: null } : {}),
  });
  const chunks: object[] = [];
  const call = reply.toolCall;
  if (call) {
    chunks.push(chunk({ role: 'assistant', content: null, refusal: null }));
    chunks.push(
      chunk({
        tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }],
      }),
    );
    for (const piece of pieces(call.arguments)) {
      chunks.push(chunk({ tool_calls: [{ index: 0, function: { arguments: piece } }] }));
    }
  } else {
    chunks.push(chunk({ role: 'assistant', content: '', refusal: null }));
    for (const piece of pieces(reply.content ?? '')) chunks.push(chunk({ content: piece }));
  }
  chunks.push(chunk({}, finishReason(reply)));
  if (usage) {
    chunks.push({
      id: meta.id,
      object: 'chat.completion.chunk',
      created: meta.created,
      model: meta.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      choices: [],
      usage,
    });
  }
  return chunks;
}

export function errorBody(message: string, type: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type, param, code } };
}

/** OpenAI's error `type` for a status, used when a scenario's error item does not name one. */
export function errorTypeFor(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 429) return 'rate_limit_exceeded';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function finishReason(reply: AssistantReply): 'tool_calls' | 'stop' | 'length' {
  if (reply.finishReason) return reply.finishReason;
  return reply.toolCall ? 'tool_calls' : 'stop';
}

/** Splits by code points, so no piece ends inside a surrogate pair. */
function pieces(text: string): string[] {
  const chars = Array.from(text);
  const size = Math.ceil(chars.length / STREAM_PIECES);
  const out: string[] = [];
  for (let i = 0; i < chars.length; i += size) out.push(chars.slice(i, i + size).join(''));
  return out;
}
