import {
  type CallUsage,
  type Llm,
  LlmUnavailableError,
  type ToolCallRequest,
  type ToolCallResult,
  type ToolSpec,
} from '@autolab/engine';
import { type AIMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { z } from 'zod';
import { classify } from './model-errors.js';
import { costOf, type PriceTable, priceOf } from './model-prices.js';
import { checkedFetch } from './reply-check.js';

export interface ChatLlmOptions {
  /** OpenAI-compatible endpoint, e.g. `https://api.openai.com/v1` or a local server. */
  baseUrl?: string;
  apiKey: string;
  model: string;
  /** Sent as the `X-Autolab-Run` header so a gateway (or the scripted server) can tell runs apart. */
  runId: string;
  /** Per attempt, from sending the request to the last byte of the reply. @defaultValue 120000 */
  timeoutMs?: number;
  /**
   * Attempts per call for 429, 5xx, timeouts, dropped connections and 200s that are not a completion (see
   * `classify`). @defaultValue 5
   */
  maxAttempts?: number;
  prices: PriceTable;
  temperature?: number;
  /** Called after every model answer (valid or not); used for the run's transcript. */
  onCall?: (entry: TranscriptEntry) => void;
  /** Waits between retries; tests pass a fast one. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export interface TranscriptEntry {
  at: string;
  purpose: string;
  model: string;
  system: string;
  prompt: string;
  tools: string[];
  reply: { tool: string | null; arguments: unknown; content: string; error: string | null };
  usage: CallUsage;
  attempts: number;
}

/** The engine's `Llm` port on LangChain's `ChatOpenAI`: one forced tool call per request, validated with zod. */
export class ChatLlm implements Llm {
  private readonly chat: ChatOpenAI;
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly options: ChatLlmOptions) {
    this.maxAttempts = options.maxAttempts ?? 5;
    this.sleep = options.sleep ?? abortableSleep;
    this.chat = new ChatOpenAI({
      model: options.model,
      apiKey: options.apiKey,
      // Retries are ours (below), so the backoff and the give-up point are visible in one place.
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
      ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
      configuration: {
        ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
        // Reads and checks the whole reply within the timeout: a stalled or malformed body is a retryable failure.
        fetch: checkedFetch(),
        defaultHeaders: { 'X-Autolab-Run': options.runId },
      },
    });
  }

  async callTool(request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallResult> {
    const tools = request.tools.map(toOpenAiTool);
    const first = request.tools[0];
    if (!first) throw new Error('callTool needs at least one tool');
    const toolChoice =
      request.tools.length === 1 ? { type: 'function' as const, function: { name: first.name } } : 'required';
    const bound = this.chat.bindTools(tools, { tool_choice: toolChoice });
    const messages = [new SystemMessage(request.system), new HumanMessage(request.prompt)];

    // The client leaves a listener on the signal it is given; a per-call signal keeps the run's signal clean.
    const call = new AbortController();
    const forwardAbort = () => call.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    let message: AIMessage | null = null;
    let attempts = 0;
    try {
      while (message === null) {
        attempts++;
        try {
          message = (await bound.invoke(messages, { signal: call.signal })) as AIMessage;
        } catch (err) {
          if (signal.aborted) throw err;
          const { retryable, description, retryAfterMs } = classify(err);
          if (!retryable || attempts >= this.maxAttempts) {
            throw new LlmUnavailableError(
              `model call failed after ${attempts} attempt(s) (${this.options.model} at ${this.options.baseUrl ?? 'OpenAI'}): ${description}`,
              { cause: err },
            );
          }
          const backoff = Math.min(30_000, 500 * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
          await this.sleep(Math.max(backoff, retryAfterMs ?? 0), call.signal);
        }
      }
    } finally {
      signal.removeEventListener('abort', forwardAbort);
    }

    const usage = this.usageOf(message);
    const result = parseToolCall(message, request.tools, usage);
    this.options.onCall?.({
      at: new Date().toISOString(),
      purpose: request.purpose,
      model: this.options.model,
      system: request.system,
      prompt: request.prompt,
      tools: request.tools.map((t) => t.name),
      reply: {
        tool: result.ok ? result.tool : null,
        arguments: result.ok ? result.value : null,
        content: result.ok ? textOf(message) : result.raw,
        error: result.ok ? null : result.error,
      },
      usage,
      attempts,
    });
    return result;
  }

  private usageOf(message: AIMessage): CallUsage {
    const promptTokens = message.usage_metadata?.input_tokens ?? 0;
    const completionTokens = message.usage_metadata?.output_tokens ?? 0;
    const price = priceOf(this.options.prices, this.options.model);
    return {
      model: this.options.model,
      promptTokens,
      completionTokens,
      costUsd: costOf(price, promptTokens, completionTokens),
      priced: price !== null,
    };
  }
}

function toOpenAiTool(tool: ToolSpec) {
  const parameters = z.toJSONSchema(tool.schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  delete parameters.$schema;
  return { type: 'function' as const, function: { name: tool.name, description: tool.description, parameters } };
}

/** Turns the model's answer into a validated tool call, or says precisely what was wrong with it. */
export function parseToolCall(message: AIMessage, tools: ToolSpec[], usage: CallUsage): ToolCallResult {
  const calls = message.tool_calls ?? [];
  const invalid = message.invalid_tool_calls ?? [];
  const call = calls[0];
  if (!call) {
    if (invalid[0]) {
      return {
        ok: false,
        error: `the arguments of tool call "${invalid[0].name ?? '?'}" are not valid JSON`,
        raw: String(invalid[0].args ?? ''),
        usage,
      };
    }
    return { ok: false, error: 'the model answered without calling a tool', raw: textOf(message), usage };
  }
  const spec = tools.find((t) => t.name === call.name);
  if (!spec) {
    return {
      ok: false,
      error: `the model called an unknown tool "${call.name}" (expected ${tools.map((t) => t.name).join(' or ')})`,
      raw: JSON.stringify(call.args),
      usage,
    };
  }
  const parsed = spec.schema.safeParse(call.args);
  if (!parsed.success) {
    return {
      ok: false,
      error: `the arguments of "${call.name}" do not match its schema: ${z.prettifyError(parsed.error)}`,
      raw: JSON.stringify(call.args),
      usage,
    };
  }
  return { ok: true, tool: call.name, value: parsed.data, usage };
}

function textOf(message: AIMessage): string {
  return typeof message.content === 'string' ? message.content : JSON.stringify(message.content);
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason);
      },
      { once: true },
    );
  });
}
