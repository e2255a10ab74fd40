import { createHash } from 'node:crypto';
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';

/**
 * How the scripted server counts tokens, and the provider prefix cache it simulates. Counts are real tokens
 * (`cl100k_base`, OpenAI's counting of chat requests), so a client's own estimate can be compared with them; the
 * cache behaves like OpenAI's automatic prompt caching, so the share of a run's prompts that prefix caches would
 * serve is measurable offline.
 */

/**
 * OpenAI's `cl100k_base` (gpt-tokenizer: the same tokens as tiktoken, about ten times faster than js-tiktoken, whose
 * time was most of this server's answer). Text that spells a special token (`<|endoftext|>`) counts as text.
 */
const NO_SPECIAL_TOKENS = { allowedSpecial: new Set<string>(), disallowedSpecial: new Set<string>() };
const tokenizer = { encode: (text: string) => encode(text, NO_SPECIAL_TOKENS) };

/** Tokens of texts sent again and again (system prompts, tool definitions), the most recent 64 kept. */
const repeated = new Map<string, number[]>();
function encodeRepeated(text: string): number[] {
  let tokens = repeated.get(text);
  if (!tokens) {
    tokens = tokenizer.encode(text);
    if (repeated.size >= 64) repeated.delete(repeated.keys().next().value!);
    repeated.set(text, tokens);
  }
  return tokens;
}

/** OpenAI's framing: 3 tokens per message, 3 to prime the reply. Markers stand for them in the sequence. */
const MESSAGE_MARKER = [-1, -1, -1];
const REPLY_PRIMING = 3;
/** What an image costs (OpenAI's low-detail price), whatever its size. */
export const IMAGE_TOKENS = 85;

interface Message {
  role: string;
  content?: unknown;
}

/**
 * The prompt as the server reads it, as a token sequence, in the order a chat template renders it: the system
 * message(s) first, then the tool definitions and the `response_format` schema (rendered after the system text, as
 * OpenAI's harmony format and the Hermes/Qwen templates place them), then the conversation. Its length plus the reply
 * priming is `prompt_tokens`.
 */
export function promptSequence(request: { messages: Message[]; tools?: unknown; response_format?: unknown }): number[] {
  const sequence: number[] = [];
  const addMessage = (message: Message) => {
    sequence.push(...MESSAGE_MARKER, ...tokenizer.encode(message.role));
    // System prompts repeat from call to call: counted once (the server's own time is on every run's clock).
    if (typeof message.content === 'string' && message.role !== 'user')
      sequence.push(...encodeRepeated(message.content));
    else addContent(sequence, message.content);
  };
  const system = request.messages.filter((m) => m.role === 'system' || m.role === 'developer');
  for (const message of system) addMessage(message);
  if (Array.isArray(request.tools) && request.tools.length > 0)
    sequence.push(...encodeRepeated(JSON.stringify(request.tools)));
  if (request.response_format) sequence.push(...encodeRepeated(JSON.stringify(request.response_format)));
  for (const message of request.messages) if (!system.includes(message)) addMessage(message);
  return sequence;
}

export const promptTokenCount = (sequence: number[]): number => sequence.length + REPLY_PRIMING;

/** The reply's tokens: its text, or the tool call's name and arguments. Never 0, so usage is always visible. */
export const replyTokenCount = (text: string): number => Math.max(1, tokenizer.encode(text).length);

function addContent(sequence: number[], content: unknown): void {
  if (typeof content === 'string') {
    sequence.push(...tokenizer.encode(content));
    return;
  }
  if (!Array.isArray(content)) return;
  for (const part of content as { type?: unknown; text?: unknown; image_url?: { url?: unknown } }[]) {
    if (typeof part?.text === 'string') {
      sequence.push(...tokenizer.encode(part.text));
    } else if (part?.type === 'image_url') {
      // The same image is the same tokens (so it can be cached), whatever its size.
      const digest = createHash('sha256')
        .update(String(part.image_url?.url ?? ''))
        .digest();
      for (let i = 0; i < IMAGE_TOKENS; i++) sequence.push(-2 - digest[i % digest.length]!);
    } else {
      sequence.push(...tokenizer.encode(JSON.stringify(part)));
    }
  }
}

/** OpenAI caches prompts of at least 1024 tokens, and reports hits in blocks of 128 tokens. */
export const CACHE_MIN_TOKENS = 1024;
export const CACHE_BLOCK_TOKENS = 128;

/**
 * A provider's prefix cache: a request's cached tokens are the longest prefix it shares with any earlier request of
 * the same run and model, counted in whole 128-token blocks once that prefix is at least 1024 tokens long. It never
 * expires (a run's calls are minutes apart at most; OpenAI keeps a prefix for 5–10 minutes of inactivity).
 */
export class PrefixCache {
  private readonly seen = new Map<string, number[][]>();

  /** The cached tokens of this request; remembers it for the requests after it. */
  lookup(key: string, sequence: number[]): number {
    const earlier = this.seen.get(key) ?? [];
    let longest = 0;
    for (const previous of earlier) longest = Math.max(longest, commonPrefix(previous, sequence));
    earlier.push(sequence);
    this.seen.set(key, earlier);
    if (longest < CACHE_MIN_TOKENS) return 0;
    return Math.floor(longest / CACHE_BLOCK_TOKENS) * CACHE_BLOCK_TOKENS;
  }

  clear(): void {
    this.seen.clear();
  }
}

function commonPrefix(a: number[], b: number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
