import { readdir, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { answersToolsInText, callAsText, type Dialect, isDialect } from './dialects.js';
import {
  type AssistantReply,
  type CompletionMeta,
  completionBody,
  completionChunks,
  completionId,
  errorBody,
  errorTypeFor,
  toolCallId,
  type Usage,
} from './openai-wire.js';
import { IMAGE_TOKENS, PrefixCache, promptSequence, promptTokenCount, replyTokenCount } from './prompt-tokens.js';
import { type Fault, loadScenario, type Scenario, ScenarioError, type ScenarioReply } from './scenario-file.js';

export interface ScriptedServerOptions {
  /** Directories searched, in order, for `<model>.yaml`. */
  scenarioDirs: string[];
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @defaultValue 0 */
  port?: number;
}

/** One answered chat completion request. */
export interface ScriptedCall {
  /** The `x-autolab-run` header, or `default`. */
  runKey: string;
  /** The model the request named (with its `@dialect`, if any). */
  model: string;
  scenario: string;
  /** The reply list used: the forced or first tool's name, or `text`. */
  key: string;
  /** Position of the item used in that list. */
  index: number;
  promptChars: number;
  promptTokens: number;
  /** Prompt tokens the simulated prefix cache served (see `PrefixCache`); reported as `cached_tokens`. */
  cachedTokens: number;
  /** 0 for scripted HTTP errors. */
  completionTokens: number;
  /** Epoch ms when the answer was sent (for a fault: when the misbehaviour began). */
  at: number;
  stream: boolean;
  /** The scripted fault this request got, or null for an answer or a scripted HTTP error. */
  fault: Fault | null;
  /** How the answer was written (the model name's `@dialect` suffix; `tools` without one). */
  dialect: Dialect;
  /** The request offered native tools. */
  offeredTools: boolean;
  /** The request asked for a JSON schema through `response_format`. */
  responseFormat: boolean;
  /** The answer was cut off (`finish_reason: "length"`). */
  truncated: boolean;
  /** The request URL's query (an Azure-style `api-version`). */
  query: Record<string, string>;
  /** The request carried an `api-key` header (Azure-style authentication). */
  apiKeyHeader: boolean;
  /** The decoded size in bytes of each image the request carried (`image_url` parts with data URLs), in order. */
  images: number[];
  /**
   * The lesson ids (`les_…`) the request's messages carry, each once, in order of first appearance: how tests count,
   * at the model's end, which of a tenant's lessons reached which step.
   */
  lessonIds: string[];
}

/** One answered embeddings request. */
export interface EmbeddingsCall {
  model: string;
  /** How many texts it embedded. */
  inputs: number;
  at: number;
}

export interface ScriptedServer {
  /** e.g. `http://127.0.0.1:PORT/v1`: what OpenAI clients take as their base URL. */
  baseUrl: string;
  port: number;
  calls: ScriptedCall[];
  /** Every `POST /v1/embeddings` answered. */
  embeddingsCalls: EmbeddingsCall[];
  callsFor(runKey: string): ScriptedCall[];
  /** Forgets cursors, recorded calls, cached scenario files and the prefix cache. */
  reset(): void;
  close(): Promise<void>;
}

export const RUN_KEY_HEADER = 'x-autolab-run';
const DEFAULT_RUN_KEY = 'default';
const TEXT_KEY = 'text';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const MODEL_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const FAULT_USAGE: Usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };

const FunctionRef = z.looseObject({
  type: z.literal('function'),
  function: z.looseObject({ name: z.string().min(1) }),
});

/** Only the fields the script depends on; everything else a client sends (temperature, n, …) is accepted as is. */
const ChatRequest = z.looseObject({
  model: z.string().min(1),
  messages: z.array(z.looseObject({ role: z.string(), content: z.unknown().optional() })).min(1),
  tools: z.array(FunctionRef).nullish(),
  tool_choice: z.union([z.enum(['none', 'auto', 'required']), FunctionRef]).nullish(),
  stream: z.boolean().nullish(),
  max_tokens: z.number().nullish(),
  max_completion_tokens: z.number().nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean().nullish() }).nullish(),
  response_format: z
    .looseObject({ type: z.string(), json_schema: z.looseObject({ name: z.string() }).nullish() })
    .nullish(),
});
type ChatRequest = z.infer<typeof ChatRequest>;

/** An error the handler answers with, in OpenAI's error shape. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = errorTypeFor(status),
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

interface Cursor {
  index: number;
  /** Requests the item at `index` has answered so far. */
  used: number;
}

/** Starts an OpenAI-compatible HTTP server that answers chat completions from scenario files. */
export async function startScriptedServer(options: ScriptedServerOptions): Promise<ScriptedServer> {
  for (const dir of options.scenarioDirs) {
    const info = await stat(dir).catch(() => null);
    if (!info?.isDirectory()) throw new Error(`scenario directory ${dir} does not exist`);
  }
  const server = new ScriptedOpenAiServer(options.scenarioDirs);
  await server.listen(options.host ?? '127.0.0.1', options.port ?? 0);
  return server;
}

class ScriptedOpenAiServer implements ScriptedServer {
  baseUrl = '';
  port = 0;
  readonly calls: ScriptedCall[] = [];
  readonly embeddingsCalls: EmbeddingsCall[] = [];
  private readonly http: Server;
  private readonly scenarios = new Map<string, Promise<Scenario>>();
  /** Keyed by run, scenario and reply key, so parallel runs of one scenario each start at the top. */
  private readonly cursors = new Map<string, Cursor>();
  private readonly prefixCache = new PrefixCache();
  private readonly closing = new AbortController();
  private readonly startedAt = Math.floor(Date.now() / 1000);

  constructor(private readonly scenarioDirs: string[]) {
    this.http = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        const e = err instanceof HttpError ? err : new HttpError(500, `scripted server error: ${String(err)}`);
        send(res, e.status, errorBody(e.message, e.type, e.param, e.code));
      });
    });
  }

  async listen(host: string, port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(port, host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.port = (this.http.address() as AddressInfo).port;
    const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
    this.baseUrl = `http://${shownHost}:${this.port}/v1`;
  }

  callsFor(runKey: string): ScriptedCall[] {
    return this.calls.filter((c) => c.runKey === runKey);
  }

  reset(): void {
    this.calls.length = 0;
    this.embeddingsCalls.length = 0;
    this.cursors.clear();
    this.scenarios.clear();
    this.prefixCache.clear();
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.http.closeAllConnections();
    await new Promise<void>((resolve) => this.http.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://scripted');
    const route = `${req.method} ${url.pathname.replace(/\/+$/, '')}`;
    if (route === 'POST /v1/chat/completions') return this.chatCompletion(req, res, url);
    if (route === 'POST /v1/embeddings') return this.embeddings(req, res);
    if (route === 'GET /v1/models') return send(res, 200, { object: 'list', data: await this.models() });
    if (route === 'GET /_scripted/calls') {
      const run = url.searchParams.get('run');
      return send(res, 200, run === null ? this.calls : this.callsFor(run));
    }
    throw new HttpError(
      404,
      `Unknown request URL: ${req.method} ${url.pathname}.`,
      'invalid_request_error',
      null,
      'unknown_url',
    );
  }

  /**
   * Deterministic embeddings for any model name: each text's words (lower case, three letters or more, the first six
   * letters of each) hashed into 64 dimensions, normalized. Texts that share words are close; others are not. Answers
   * in floats or, when asked (`encoding_format: "base64"`, the OpenAI SDK's default), as base64 of float32s.
   */
  private async embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body: { model?: unknown; input?: unknown; encoding_format?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      throw new HttpError(400, 'the body is not JSON', 'invalid_request_error');
    }
    const inputs = typeof body.input === 'string' ? [body.input] : body.input;
    if (typeof body.model !== 'string' || !Array.isArray(inputs) || !inputs.every((i) => typeof i === 'string'))
      throw new HttpError(400, 'give a model and input (a string or strings)', 'invalid_request_error', 'input');
    this.embeddingsCalls.push({ model: body.model, inputs: inputs.length, at: Date.now() });
    const base64 = body.encoding_format === 'base64';
    const data = (inputs as string[]).map((text, index) => {
      const vector = hashedWords(text);
      const embedding = base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
      return { object: 'embedding', index, embedding };
    });
    const tokens = (inputs as string[]).reduce((n, text) => n + Math.ceil(text.length / 4), 0);
    send(res, 200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
  }

  private async chatCompletion(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const request = parseRequest(await readBody(req));
    const { name: scenarioName, dialect } = splitModel(request.model);
    const scenario = await this.scenarioFor(scenarioName, request.model);
    const key = replyKey(request);
    const offeredTools = (request.tools?.length ?? 0) > 0 || typeof request.tool_choice === 'object';
    const responseFormat = request.response_format?.type === 'json_schema';
    // The client's schema for a choice of tools is a {name, arguments} envelope.
    const envelope = JSON.stringify(request.response_format?.json_schema?.schema ?? {}).includes('"arguments"');
    // hasOwn: a tool named like an Object.prototype member (`constructor`) must not find one.
    const list = Object.hasOwn(scenario.replies, key) ? scenario.replies[key] : undefined;
    if (!list) {
      throw new HttpError(
        400,
        `scenario "${scenario.name}" has no replies for "${key}" (it has replies for: ${Object.keys(scenario.replies).join(', ')})`,
        'invalid_request_error',
        'tools',
        'no_scripted_reply',
      );
    }
    const runKey = headerValue(req, RUN_KEY_HEADER) ?? DEFAULT_RUN_KEY;
    const cursorKey = `${runKey}\u0000${scenario.name}\u0000${key}`;
    const prompt = promptSequence(request);
    const call: ScriptedCall = {
      runKey,
      model: request.model,
      scenario: scenario.name,
      key,
      index: 0,
      promptChars: promptCharsOf(request),
      promptTokens: promptTokenCount(prompt),
      cachedTokens: 0,
      completionTokens: 0,
      at: Date.now(),
      stream: request.stream === true,
      fault: null,
      dialect,
      offeredTools,
      responseFormat,
      truncated: false,
      query: Object.fromEntries(url.searchParams),
      apiKeyHeader: headerValue(req, 'api-key') !== null,
      images: imagesOf(request),
      lessonIds: lessonIdsOf(request),
    };
    if (dialect === 'no-tools' && offeredTools) {
      // Ollama's answer for a model whose template has no tool support; the script does not move on.
      call.index = this.peek(cursorKey, list).index;
      this.calls.push(call);
      const model = `registry.ollama.ai/library/${scenario.name}:latest`;
      return send(res, 400, errorBody(`${model} does not support tools`, 'api_error'));
    }
    // The truncated dialect is a server whose default completion limit is shorter than the scripted replies: a
    // request without a max_tokens that fits the reply gets the first half, and the script does not move on.
    const peeked = this.peek(cursorKey, list);
    const limit = request.max_completion_tokens ?? request.max_tokens ?? null;
    const cut =
      dialect === 'truncated' &&
      peeked.item.kind === 'tool_call' &&
      (limit === null || limit < replyTokenCount(peeked.item.arguments));
    const { item, index } = cut ? peeked : this.advance(cursorKey, list);
    call.index = index;
    call.truncated = cut;

    if (item.delayMs > 0) {
      try {
        await sleep(item.delayMs, undefined, { signal: this.closing.signal });
      } catch {
        return; // the server is closing; its connections are already gone
      }
    }
    if (res.destroyed) return;
    call.at = Date.now();

    if (item.kind === 'error') {
      this.calls.push(call);
      // retry-after 0 keeps clients that honour it (the openai SDK does) from waiting in tests.
      const headers: Record<string, string> = item.status === 429 ? { 'retry-after': '0' } : {};
      const body = errorBody(item.message, item.type ?? errorTypeFor(item.status), null, item.code);
      return send(res, item.status, body, headers);
    }

    const meta: CompletionMeta = { id: completionId(), created: Math.floor(call.at / 1000), model: request.model };
    if (item.kind === 'fault') {
      call.fault = item.fault;
      this.calls.push(call);
      return this.misbehave(item.fault, res, meta);
    }

    const reply: AssistantReply =
      item.kind === 'content'
        ? { content: item.content, toolCall: null }
        : dialectReply(dialect, { offeredTools, responseFormat, envelope }, item.tool ?? key, item.arguments);
    if (cut) cutInHalf(reply);
    call.completionTokens = replyTokenCount(
      reply.content ?? (reply.toolCall ? reply.toolCall.name + reply.toolCall.arguments : ''),
    );
    // A server that reports no usage reports no cache hits either; its requests still fill the cache.
    const cached = this.prefixCache.lookup(`${runKey}\u0000${request.model}`, prompt);
    if (dialect !== 'no-usage') call.cachedTokens = cached;
    this.calls.push(call);

    const usage: Usage | null =
      dialect === 'no-usage'
        ? null
        : {
            prompt_tokens: call.promptTokens,
            completion_tokens: call.completionTokens,
            total_tokens: call.promptTokens + call.completionTokens,
            prompt_tokens_details: { cached_tokens: call.cachedTokens },
          };
    if (!request.stream) return send(res, 200, completionBody(meta, reply, usage));

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const includeUsage = request.stream_options?.include_usage === true;
    for (const chunk of completionChunks(meta, reply, includeUsage ? usage : null)) {
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    res.end('data: [DONE]\n\n');
  }

  /** A scripted fault: what a broken model server, proxy or network does to a request. */
  private async misbehave(fault: Fault, res: ServerResponse, meta: CompletionMeta): Promise<void> {
    const json = { 'content-type': 'application/json' };
    // A complete, valid completion, so that "truncated" and "reset-mid-body" cut a real reply.
    const full = JSON.stringify(
      completionBody(meta, { content: 'This reply never arrives whole.', toolCall: null }, FAULT_USAGE),
    );
    const half = full.slice(0, Math.floor(full.length / 2));
    // Until the client gives up (its timeout, or it goes away) or the server closes.
    const untilClosed = () =>
      new Promise<void>((resolve) => {
        res.once('close', resolve);
        this.closing.signal.addEventListener('abort', () => resolve(), { once: true });
      });
    switch (fault) {
      case 'hang':
        return untilClosed();
      case 'stall-mid-body':
        // Headers and half the body arrive at once; the rest never does.
        res.writeHead(200, { ...json, 'content-length': String(Buffer.byteLength(full)) });
        res.write(half);
        return untilClosed();
      case 'not-json':
        res.writeHead(200, json);
        res.end('<html><body><h1>502 Bad Gateway</h1><p>The upstream server did not answer.</p></body></html>');
        return;
      case 'truncated':
        // A complete HTTP response (its length matches) whose JSON stops in the middle.
        res.writeHead(200, { ...json, 'content-length': String(Buffer.byteLength(half)) });
        res.end(half);
        return;
      case 'empty':
        res.writeHead(200, { ...json, 'content-length': '0' });
        res.end();
        return;
      case 'error-200':
        res.writeHead(200, json);
        res.end(JSON.stringify(errorBody('The server had an error while processing your request.', 'server_error')));
        return;
      case 'reset':
        // TCP RST before any byte of the answer: the client sees ECONNRESET.
        res.socket?.resetAndDestroy();
        return;
      case 'reset-mid-body':
        // The headers promise the whole body; half of it arrives, then the connection is gone.
        res.writeHead(200, { ...json, 'content-length': String(Buffer.byteLength(full)) });
        res.write(half, () => setTimeout(() => res.socket?.destroy(), 20));
        return;
    }
  }

  /** The item the next request gets, without using it. */
  private peek(cursorKey: string, list: ScenarioReply[]): { item: ScenarioReply; index: number } {
    const index = this.cursors.get(cursorKey)?.index ?? 0;
    return { item: list[index]!, index };
  }

  /** The item to answer with; an item is used `times` times, and the last one repeats forever. */
  private advance(cursorKey: string, list: ScenarioReply[]): { item: ScenarioReply; index: number } {
    let cursor = this.cursors.get(cursorKey);
    if (!cursor) {
      cursor = { index: 0, used: 0 };
      this.cursors.set(cursorKey, cursor);
    }
    const index = cursor.index;
    const item = list[index]!;
    cursor.used++;
    if (cursor.used >= item.times && index < list.length - 1) {
      cursor.index++;
      cursor.used = 0;
    }
    return { item, index };
  }

  private async scenarioFor(name: string, model: string): Promise<Scenario> {
    let loading = this.scenarios.get(name);
    if (!loading) {
      loading = this.findScenario(name).then((path) => {
        if (path === null) {
          throw new HttpError(
            404,
            `The model '${model}' does not exist (the scripted server has no ${name}.yaml in ${this.scenarioDirs.join(', ')})`,
            'invalid_request_error',
            'model',
            'model_not_found',
          );
        }
        return loadScenario(path);
      });
      this.scenarios.set(name, loading);
      // Failures are not cached: fixing the file (or adding it) takes effect on the next request.
      loading.catch(() => this.scenarios.delete(name));
    }
    try {
      return await loading;
    } catch (err) {
      if (err instanceof ScenarioError) {
        throw new HttpError(500, err.message, 'server_error', null, 'scenario_invalid');
      }
      throw err;
    }
  }

  private async findScenario(name: string): Promise<string | null> {
    if (!MODEL_NAME.test(name)) return null;
    for (const dir of this.scenarioDirs) {
      const path = join(dir, `${name}.yaml`);
      if ((await stat(path).catch(() => null))?.isFile()) return path;
    }
    return null;
  }

  private async models() {
    const names = new Set<string>();
    for (const dir of this.scenarioDirs) {
      for (const file of (await readdir(dir).catch(() => [])).sort()) {
        if (file.endsWith('.yaml') && MODEL_NAME.test(file.slice(0, -5))) names.add(file.slice(0, -5));
      }
    }
    return [...names].map((id) => ({ id, object: 'model', created: this.startedAt, owned_by: 'autolab-scripted' }));
  }
}

function parseRequest(body: string): ChatRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new HttpError(400, 'We could not parse the JSON body of your request: it is not valid JSON.');
  }
  const parsed = ChatRequest.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.length > 0 ? issue.path.join('.') : null;
    throw new HttpError(
      400,
      `Invalid request body: ${param ?? 'body'}: ${issue.message}`,
      'invalid_request_error',
      param,
    );
  }
  return parsed.data;
}

/**
 * The scenario and the dialect a model name asks for: `demo@fenced` is the demo scenario written as fenced JSON
 * (`scripted/` in front is ignored). An unknown dialect is a model that does not exist.
 */
function splitModel(model: string): { name: string; dialect: Dialect } {
  const [name = '', dialect = 'tools', ...rest] = model.replace(/^scripted\//, '').split('@');
  if (rest.length > 0 || !isDialect(dialect)) {
    throw new HttpError(
      404,
      `The model '${model}' does not exist (unknown dialect "${dialect}")`,
      'invalid_request_error',
      'model',
      'model_not_found',
    );
  }
  return { name, dialect };
}

/** The text-mode prompt's first tool (`### Tool: \`name\``), as the client's text mode writes it. */
const TEXT_MODE_TOOL = /^### Tool: `([A-Za-z0-9_-]+)`/m;

/**
 * The forced function, else the first offered tool, else the schema's name of a `response_format` request, else the
 * first tool a text-mode prompt describes, else `text`.
 */
function replyKey(request: ChatRequest): string {
  const choice = request.tool_choice;
  if (choice && typeof choice === 'object') return choice.function.name;
  const offered = request.tools?.[0]?.function.name;
  if (offered) return offered;
  const schemaName = request.response_format?.json_schema?.name;
  if (request.response_format?.type === 'json_schema' && schemaName) return schemaName;
  for (const message of request.messages) {
    const text = textOf(message.content);
    const described = TEXT_MODE_TOOL.exec(text)?.[1];
    if (described) return described;
  }
  return TEXT_KEY;
}

/** A scripted tool call as the dialect's model sends it for this request. */
function dialectReply(
  dialect: Dialect,
  request: { offeredTools: boolean; responseFormat: boolean; envelope: boolean },
  name: string,
  args: string,
): AssistantReply {
  if (request.offeredTools && !answersToolsInText(dialect)) {
    return { content: null, toolCall: { id: toolCallId(), name, arguments: args } };
  }
  // A server that honours response_format sends the JSON the schema asks for (the arguments of the one tool).
  if (request.responseFormat) {
    return {
      content: request.envelope ? `{"name":${JSON.stringify(name)},"arguments":${args}}` : args,
      toolCall: null,
    };
  }
  return { content: callAsText(dialect, name, args), toolCall: null };
}

/** The first half of the reply, as a server sends it when the completion limit is reached. */
function cutInHalf(reply: AssistantReply): void {
  reply.finishReason = 'length';
  if (reply.toolCall) reply.toolCall.arguments = reply.toolCall.arguments.slice(0, reply.toolCall.arguments.length / 2);
  if (reply.content !== null) reply.content = reply.content.slice(0, Math.floor(reply.content.length / 2));
}

const EMBEDDING_DIMENSIONS = 64;

function hashedWords(text: string): number[] {
  const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[a-z]{3,}/g) ?? []) {
    let h = 2166136261;
    for (const c of word.slice(0, 6)) h = Math.imul(h ^ c.charCodeAt(0), 16777619);
    vector[(h >>> 0) % EMBEDDING_DIMENSIONS]! += 1;
  }
  const norm = Math.sqrt(vector.reduce((a, v) => a + v * v, 0)) || 1;
  return vector.map((v) => v / norm);
}

function lessonIdsOf(request: ChatRequest): string[] {
  const text = request.messages.map((message) => JSON.stringify(message.content ?? '')).join('\n');
  return [...new Set(text.match(/\bles_[0-9a-z]{26}\b/g) ?? [])];
}

/** Characters of all message contents plus the tools' JSON. */
function promptCharsOf(request: ChatRequest): number {
  let chars = 0;
  for (const message of request.messages) chars += contentChars(message.content);
  if (request.tools && request.tools.length > 0) chars += JSON.stringify(request.tools).length;
  return chars;
}

function contentChars(content: unknown): number {
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) return 0;
  let chars = 0;
  for (const part of content) {
    const text = (part as { text?: unknown } | null)?.text;
    if (typeof text === 'string') chars += text.length;
    // An image costs a fixed number of tokens (OpenAI's low-detail price), not the length of its base64.
    else if (isImagePart(part)) chars += IMAGE_TOKENS * 4;
    else chars += JSON.stringify(part).length;
  }
  return chars;
}

const isImagePart = (part: unknown): part is { type: 'image_url'; image_url?: unknown } =>
  typeof part === 'object' && part !== null && (part as { type?: unknown }).type === 'image_url';

/** The text of a message: a string, or the text parts of a content array joined. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part) => (part as { text?: unknown } | null)?.text)
    .filter((text): text is string => typeof text === 'string')
    .join('\n');
}

/**
 * The decoded size of every image of the request, in order: `image_url` parts whose URL is a base64 data URL
 * (`{url}` or, as some clients send it, the bare string). An image part that is not one is a client error.
 */
function imagesOf(request: ChatRequest): number[] {
  const sizes: number[] = [];
  for (const message of request.messages) {
    if (!Array.isArray(message.content)) continue;
    for (const part of message.content) {
      if (!isImagePart(part)) continue;
      const ref = part.image_url;
      const url = typeof ref === 'string' ? ref : (ref as { url?: unknown } | null)?.url;
      const data =
        typeof url === 'string' ? /^data:image\/(?:png|jpeg|gif|webp);base64,([A-Za-z0-9+/]+=*)$/.exec(url) : null;
      if (!data) {
        throw new HttpError(
          400,
          'Invalid image_url: expected a base64 data URL of a PNG, JPEG, GIF or WebP image.',
          'invalid_request_error',
          'messages',
          'invalid_image_url',
        );
      }
      sizes.push(Buffer.from(data[1]!, 'base64').length);
    }
  }
  return sizes;
}

function headerValue(req: IncomingMessage, name: string): string | null {
  const value = req.headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  return first ? first : null;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      throw new HttpError(413, `request body is larger than ${MAX_BODY_BYTES} bytes`, 'invalid_request_error');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
