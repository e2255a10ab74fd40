import { createHash } from 'node:crypto';
import { costOf, type ModelMode, type ModelModeSetting, type PriceTable, priceOf } from '@autolab/contracts';
import {
  type CallUsage,
  type Llm,
  LlmUnavailableError,
  type PromptImage,
  type ToolCallRequest,
  type ToolCallResult,
  type ToolSpec,
} from '@autolab/engine';
import { AIMessage, type BaseMessage, HumanMessage, SystemMessage } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import OpenAI from 'openai';
import { z } from 'zod';
import { classify } from './model-errors.js';
import { type ModeCache, modeCacheKey, toolsUnsupported } from './model-mode.js';
import { checkedFetch } from './reply-check.js';
import { jsonSchemaOf, parseTextCall, type TextCall, textModeInstructions } from './text-call.js';
import { type ContentPart, type CountedMessage, countPromptTokens, countReplyTokens } from './token-count.js';

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
  /** How tool calls are asked (see `model-mode.ts`). @defaultValue 'auto' */
  mode?: ModelModeSetting;
  /** Where `auto` remembers the working mode per endpoint and model; without it, each client finds out anew. */
  modeCache?: ModeCache;
  /** Sent with every request: an Azure-style `api-key` header, a gateway's routing header. */
  headers?: Record<string, string>;
  /** Added to every request's URL: Azure's classic `api-version`. */
  query?: Record<string, string>;
}

export interface TranscriptEntry {
  at: string;
  purpose: string;
  /** The experiment the call served (see `ToolCallRequest.nodeId`); absent for calls of the run as a whole. */
  nodeId?: string;
  model: string;
  /** How the call was asked: `tools`, `json` or `text`. */
  mode: ModelMode;
  system: string;
  prompt: string;
  /** The images sent after the prompt, described (never their bytes: a transcript line stays small). */
  images?: TranscriptImage[];
  tools: string[];
  reply: { tool: string | null; arguments: unknown; content: string; error: string | null };
  usage: CallUsage;
  attempts: number;
  /** Set on a re-ask: why the previous reply was unusable. */
  retryOf?: string;
}

export interface TranscriptImage {
  name: string;
  mediaType: string;
  bytes: number;
  sha256: string;
}

/**
 * The engine's `Llm` port on an OpenAI-compatible endpoint, in one of the modes of `model-mode.ts`: native tool calls
 * through LangChain's `ChatOpenAI` (`bindTools` with a forced choice), or `json`/`text` through the OpenAI SDK
 * directly (LangChain runs `response_format` replies through the SDK's `parse`, which throws on the near-JSON and
 * the cut-off replies those modes exist to handle). Every reply is validated with the tool's zod schema.
 */
export class ChatLlm implements Llm {
  private readonly maxAttempts: number;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  private readonly setting: ModelModeSetting;
  private readonly cacheKey: string;
  private readonly client: OpenAI;
  /** The mode in use; resolved at the first call (from the setting, or auto's memory). */
  private mode: ModelMode | null = null;
  /** Auto has written the working mode to the cache (once per client). */
  private remembered = false;
  /**
   * The completion limit that a cut-off reply was asked again with: sent with every later call too, since a server
   * whose default limit cut one reply off will cut the next long one as well.
   */
  private replyTokens: number | undefined;

  private readonly headers: Record<string, string>;

  constructor(private readonly options: ChatLlmOptions) {
    this.headers = { ...options.headers, 'X-Autolab-Run': options.runId };
    this.maxAttempts = options.maxAttempts ?? 5;
    this.sleep = options.sleep ?? abortableSleep;
    this.setting = options.mode ?? 'auto';
    this.cacheKey = modeCacheKey(options.baseUrl, options.model);
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseUrl ? { baseURL: options.baseUrl } : {}),
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
      fetch: checkedFetch(),
      defaultHeaders: this.headers,
      ...(options.query ? { defaultQuery: options.query } : {}),
    });
  }

  private chat(maxTokens?: number): ChatOpenAI {
    return new ChatOpenAI({
      model: this.options.model,
      apiKey: this.options.apiKey,
      // Retries are ours (below), so the backoff and the give-up point are visible in one place.
      maxRetries: 0,
      timeout: this.options.timeoutMs ?? 120_000,
      ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
      ...(maxTokens !== undefined ? { maxTokens } : {}),
      configuration: {
        ...(this.options.baseUrl ? { baseURL: this.options.baseUrl } : {}),
        // Reads and checks the whole reply within the timeout: a stalled or malformed body is a retryable failure.
        fetch: checkedFetch(),
        defaultHeaders: this.headers,
        ...(this.options.query ? { defaultQuery: this.options.query } : {}),
      },
    });
  }

  async callTool(request: ToolCallRequest, signal: AbortSignal): Promise<ToolCallResult> {
    if (request.tools.length === 0) throw new Error('callTool needs at least one tool');
    const raised = request.retry?.maxReplyTokens;
    if (raised !== undefined) this.replyTokens = Math.max(this.replyTokens ?? 0, raised);
    let mode = await this.currentMode();
    // The client leaves a listener on the signal it is given; a per-call signal keeps the run's signal clean.
    const call = new AbortController();
    const forwardAbort = () => call.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    let answer: Answer;
    try {
      if (mode === 'tools') {
        try {
          answer = await this.viaTools(request, call.signal);
        } catch (err) {
          if (this.setting !== 'auto' || !(err instanceof LlmUnavailableError) || !toolsUnsupported(err.cause)) {
            throw err;
          }
          // The server refused native tools for this model: no completion was made, so nothing is counted.
          mode = await this.switchTo('text');
          answer = await this.viaText('text', request, call.signal);
        }
        if (!answer.result.ok && this.setting === 'auto' && answer.textCall) {
          // The model wrote its call as text: keep it, and ask in text mode from now on.
          mode = await this.switchTo('text');
          answer.result = answer.textCall.ok
            ? { ok: true, tool: answer.textCall.tool, value: answer.textCall.value, usage: answer.result.usage }
            : { ...answer.result, error: answer.textCall.error, reask: 'invalid' };
        }
      } else {
        answer = await this.viaText(mode, request, call.signal);
      }
    } finally {
      signal.removeEventListener('abort', forwardAbort);
    }
    const result: ToolCallResult = { ...answer.result, mode };
    if (result.ok) await this.remember(mode);

    this.options.onCall?.({
      at: new Date().toISOString(),
      purpose: request.purpose,
      ...(request.nodeId ? { nodeId: request.nodeId } : {}),
      model: this.options.model,
      mode,
      system: request.system,
      prompt: request.prompt,
      ...(request.images?.length ? { images: request.images.map(describeImage) } : {}),
      tools: request.tools.map((t) => t.name),
      reply: {
        tool: result.ok ? result.tool : null,
        arguments: result.ok ? result.value : null,
        content: answer.content,
        error: result.ok ? null : result.error,
      },
      usage: result.usage,
      attempts: answer.attempts,
      ...(request.retry ? { retryOf: request.retry.error } : {}),
    });
    return result;
  }

  /** Native tool calls, with the tool forced. */
  private async viaTools(request: ToolCallRequest, signal: AbortSignal): Promise<Answer> {
    const tools = request.tools.map(toOpenAiTool);
    const first = request.tools[0]!;
    const toolChoice =
      request.tools.length === 1 ? { type: 'function' as const, function: { name: first.name } } : 'required';
    const bound = this.chat(this.replyTokens).bindTools(tools, { tool_choice: toolChoice });
    const sent = sentMessages(request.system, request);
    const messages: BaseMessage[] = sent.map(({ role, content }) =>
      role === 'system'
        ? new SystemMessage(content as string)
        : role === 'assistant'
          ? new AIMessage(content as string)
          : new HumanMessage({ content }),
    );
    const { value: message, attempts } = await this.withRetries(
      () => bound.invoke(messages, { signal }) as Promise<AIMessage>,
      signal,
    );
    const content = textOf(message);
    const reported = message.usage_metadata;
    const usage = await this.usageOf(
      reported && {
        prompt: reported.input_tokens,
        completion: reported.output_tokens,
        cached: reported.input_token_details?.cache_read,
      },
      { messages: sent, extras: tools },
      content + (message.tool_calls ?? []).map((c) => c.name + JSON.stringify(c.args)).join(''),
    );
    const finish = (message.response_metadata as { finish_reason?: unknown } | undefined)?.finish_reason;
    if (finish === 'length') return { result: truncated(usage, content), content, attempts, textCall: null };
    const result = parseToolCall(message, request.tools, usage);
    const textCall =
      !result.ok && (message.tool_calls ?? []).length === 0 && content.trim() !== ''
        ? parseTextCall(content, request.tools)
        : null;
    // Only a reply that names a tool counts as "the call in the text"; chat without JSON stays a tools failure.
    const carried = textCall && (textCall.ok || textCall.found) ? textCall : null;
    return { result, content: result.ok ? content : result.raw, attempts, textCall: carried };
  }

  /** `json` (response_format with the schema) or `text` (schema in the prompt, call parsed from the text). */
  private async viaText(mode: 'json' | 'text', request: ToolCallRequest, signal: AbortSignal): Promise<Answer> {
    const system =
      mode === 'text'
        ? `${request.system}\n\n${textModeInstructions(request.tools)}`
        : `${request.system}\n\n${jsonModeInstructions(request.tools)}`;
    const messages = sentMessages(system, request);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.options.model,
      messages: messages as OpenAI.Chat.ChatCompletionMessageParam[],
      ...(this.options.temperature !== undefined ? { temperature: this.options.temperature } : {}),
      ...(this.replyTokens !== undefined ? { max_tokens: this.replyTokens } : {}),
      ...(mode === 'json' ? { response_format: responseFormatOf(request.tools) } : {}),
    };
    const { value: completion, attempts } = await this.withRetries(
      () => this.client.chat.completions.create(body, { signal }),
      signal,
    );
    const choice = completion.choices[0];
    const content = choice?.message?.content ?? '';
    const reported = completion.usage;
    const usage = await this.usageOf(
      reported && {
        prompt: reported.prompt_tokens,
        completion: reported.completion_tokens,
        cached: reported.prompt_tokens_details?.cached_tokens,
      },
      { messages, extras: body.response_format ? [body.response_format] : [] },
      content,
    );
    if (choice?.finish_reason === 'length')
      return { result: truncated(usage, content), content, attempts, textCall: null };
    const parsed = parseTextCall(content, request.tools);
    const result: ToolCallResult = parsed.ok
      ? { ok: true, tool: parsed.tool, value: parsed.value, usage }
      : { ok: false, error: parsed.error, raw: content, usage, reask: 'invalid' };
    return { result, content, attempts, textCall: null };
  }

  /** Transport retries: 429, 5xx, timeouts, dropped connections and 200s that are not a completion. */
  private async withRetries<T>(send: () => Promise<T>, signal: AbortSignal): Promise<{ value: T; attempts: number }> {
    let attempts = 0;
    for (;;) {
      attempts++;
      try {
        return { value: await send(), attempts };
      } catch (err) {
        if (signal.aborted) throw err;
        const { retryable, description, retryAfterMs } = classify(err);
        // A server without tool support says so every time (llama.cpp with a 500): no use asking again.
        const permanent = toolsUnsupported(err);
        if (!retryable || permanent || attempts >= this.maxAttempts) {
          const hint = permanent && this.setting === 'tools' ? ' (set AUTOLAB_MODEL_MODE=text or auto)' : '';
          throw new LlmUnavailableError(
            `model call failed after ${attempts} attempt(s) (${this.options.model} at ${this.options.baseUrl ?? 'OpenAI'}): ${description}${hint}`,
            { cause: err },
          );
        }
        const backoff = Math.min(30_000, 500 * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
        await this.sleep(Math.max(backoff, retryAfterMs ?? 0), signal);
      }
    }
  }

  private async currentMode(): Promise<ModelMode> {
    if (this.mode) return this.mode;
    if (this.setting !== 'auto') {
      this.mode = this.setting;
      return this.mode;
    }
    const cached = await this.options.modeCache?.get(this.cacheKey).catch(() => null);
    this.mode = cached ?? 'tools';
    // A remembered mode is already in the cache.
    this.remembered = cached != null;
    return this.mode;
  }

  private async switchTo(mode: ModelMode): Promise<ModelMode> {
    this.mode = mode;
    this.remembered = false;
    await this.remember(mode);
    return mode;
  }

  /** Auto writes the mode that works to the cache once, so the deployment's next runs start with it. */
  private async remember(mode: ModelMode): Promise<void> {
    if (this.setting !== 'auto' || this.remembered || !this.options.modeCache) return;
    this.remembered = true;
    await this.options.modeCache.set(this.cacheKey, mode).catch(() => undefined);
  }

  /**
   * The usage the server reports, with the prompt tokens it served from its prefix cache priced at the cached rate.
   * A server that reports none (several local ones) gets the prompt as sent and the reply counted with a tokenizer
   * (`token-count.ts`), so that token caps and budgets still bind; such usage is marked as estimated.
   */
  private async usageOf(
    reported: { prompt?: number; completion?: number; cached?: number | undefined } | undefined,
    sent: { messages: CountedMessage[]; extras: unknown[] },
    reply: string,
  ): Promise<CallUsage> {
    const model = this.options.model;
    const estimated = reported?.prompt === undefined || reported.completion === undefined;
    const promptTokens = reported?.prompt ?? (await countPromptTokens(model, sent.messages, sent.extras));
    const completionTokens = reported?.completion ?? (await countReplyTokens(model, reply));
    const cachedTokens = Math.min(reported?.cached ?? 0, promptTokens);
    const price = priceOf(this.options.prices, model);
    return {
      model,
      promptTokens,
      completionTokens,
      cachedTokens,
      estimated,
      costUsd: costOf(price, promptTokens, completionTokens, cachedTokens),
      priced: price !== null,
    };
  }
}

interface Answer {
  result: ToolCallResult;
  /** The reply's text (or the raw arguments), for the transcript. */
  content: string;
  attempts: number;
  /** Tools mode: a call the model wrote in its text instead of as a tool call (found, valid or not). */
  textCall: TextCall | null;
}

/**
 * The chat messages of a request (with the mode's instructions in `system`): what is sent, and what is counted when
 * the server reports no usage. The user message carries the request's images, if any; a re-ask after an invalid
 * reply adds that reply and the error.
 */
function sentMessages(system: string, request: ToolCallRequest): CountedMessage[] {
  const messages: CountedMessage[] = [
    { role: 'system', content: system },
    { role: 'user', content: userContent(request.prompt, request.images) },
  ];
  if (request.retry && request.retry.maxReplyTokens === undefined) {
    messages.push(
      { role: 'assistant', content: request.retry.reply },
      { role: 'user', content: reAskText(request.retry.error) },
    );
  }
  return messages;
}

/**
 * The user message: the prompt alone, or the prompt then its images as `image_url` parts with data URLs (the form
 * OpenAI-compatible servers with vision models accept; LangChain passes the same parts through unchanged).
 */
function userContent(prompt: string, images: PromptImage[] | undefined): string | ContentPart[] {
  if (!images?.length) return prompt;
  return [
    { type: 'text', text: prompt },
    ...images.map(
      (image): ContentPart => ({
        type: 'image_url',
        image_url: { url: `data:${image.mediaType};base64,${image.data.toString('base64')}` },
      }),
    ),
  ];
}

function describeImage(image: PromptImage): TranscriptImage {
  return {
    name: image.name,
    mediaType: image.mediaType,
    bytes: image.data.length,
    sha256: createHash('sha256').update(image.data).digest('hex'),
  };
}

/** The follow-up after an unusable reply: the exact reason, and the format once more. */
const reAskText = (error: string): string =>
  `Your reply could not be used: ${error}. Answer again with one complete call in the format described above.`;

function truncated(usage: CallUsage, content: string): ToolCallResult {
  return {
    ok: false,
    error: `the reply was cut off at the completion limit after ${usage.completionTokens} tokens (finish_reason "length")`,
    raw: content,
    usage,
    reask: 'truncated',
  };
}

/** For `json` mode: the tools in words (the schema itself goes in `response_format`). */
function jsonModeInstructions(tools: ToolSpec[]): string {
  if (tools.length === 1) {
    return `## How to answer\nAnswer with one JSON object: the arguments of \`${tools[0]!.name}\` (${tools[0]!.description}).`;
  }
  const listed = tools.map((t) => `- \`${t.name}\`: ${t.description}`).join('\n');
  return `## How to answer\nAnswer with one JSON object {"name": <tool>, "arguments": {…}} calling one of:\n${listed}`;
}

/**
 * The JSON schema of the reply: the tool's arguments for one tool, a `{name, arguments}` envelope for several. The
 * schema is named after the first tool (OpenAI requires a name; the scripted server keys its replies by it).
 */
function responseFormatOf(tools: ToolSpec[]): OpenAI.ResponseFormatJSONSchema {
  const schema =
    tools.length === 1
      ? jsonSchemaOf(tools[0]!)
      : {
          type: 'object',
          properties: {
            name: { type: 'string', enum: tools.map((t) => t.name) },
            arguments: { anyOf: tools.map(jsonSchemaOf) },
          },
          required: ['name', 'arguments'],
        };
  return { type: 'json_schema', json_schema: { name: tools[0]!.name, schema, strict: false } };
}

function toOpenAiTool(tool: ToolSpec) {
  const parameters = jsonSchemaOf(tool);
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
