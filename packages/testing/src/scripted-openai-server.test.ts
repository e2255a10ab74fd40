import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AIMessage, AIMessageChunk } from '@langchain/core/messages';
import { ChatOpenAI } from '@langchain/openai';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kBase from 'js-tiktoken/ranks/cl100k_base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BUILTIN_SCENARIOS_DIR, loadScenario, type Scenario } from './scenario-file.js';
import { type ScriptedCall, type ScriptedServer, startScriptedServer } from './scripted-openai-server.js';

const BASIC = `
description: fixture for the server tests
replies:
  propose_plan:
    - arguments: { title: first }
    - arguments: { title: second }
  write_code:
    - arguments: { code: { $file: code/hello.py }, files: [{ $file: code/hello.py }], note: kept }
  flaky:
    - error: { status: 429, message: slow down }
      times: 2
    - error: { status: 500, message: boom }
    - content: recovered
  broken_json:
    - rawArguments: '{"plan": "oops'
  improve:
    - tool: finish
      arguments: { reason: enough }
  slow:
    - content: late
      delayMs: 150
  text:
    - content: Hello from the script, streamed in pieces.
  faulty:
    - fault: not-json
    - fault: truncated
    - fault: empty
    - fault: error-200
    - fault: reset
    - fault: reset-mid-body
    - fault: hang
    - fault: stall-mid-body
    - content: healthy again
`;
const HELLO_PY = 'print("hello")\n';
const cl100k = new Tiktoken(cl100kBase);
const tokensOf = (text: string) => cl100k.encode(text).length;

let root: string;
let server: ScriptedServer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'scripted-server-'));
  const dir = join(root, 'scenarios');
  await mkdir(join(dir, 'code'), { recursive: true });
  await writeFile(join(dir, 'basic.yaml'), BASIC);
  await writeFile(join(dir, 'code', 'hello.py'), HELLO_PY);
  await writeFile(join(root, 'secret.txt'), 'not for scenarios');
  await writeFile(join(dir, 'escape.yaml'), 'replies:\n  t:\n    - arguments: { code: { $file: ../secret.txt } }\n');
  await writeFile(join(dir, 'typo.yaml'), 'replies:\n  t:\n    - argument: { a: 1 }\n');
  await writeFile(join(dir, 'broken.yaml'), 'replies: [unclosed\n');
  server = await startScriptedServer({ scenarioDirs: [dir] });
});

afterAll(async () => {
  await server?.close();
  await rm(root, { recursive: true, force: true });
});

beforeEach(() => server.reset());

const fn = (name: string) => ({
  type: 'function',
  function: { name, description: `the ${name} tool`, parameters: { type: 'object', properties: {} } },
});

interface ChatOptions {
  model?: string;
  run?: string;
  tools?: string[];
  force?: string;
  stream?: boolean;
  usage?: boolean;
  messages?: unknown[];
}

async function chat(options: ChatOptions = {}): Promise<Response> {
  const body = {
    model: options.model ?? 'basic',
    messages: options.messages ?? [{ role: 'user', content: 'go' }],
    ...(options.tools ? { tools: options.tools.map(fn) } : {}),
    ...(options.force ? { tool_choice: { type: 'function', function: { name: options.force } } } : {}),
    ...(options.stream ? { stream: true } : {}),
    ...(options.usage ? { stream_options: { include_usage: true } } : {}),
  };
  return post(JSON.stringify(body), options.run ? { 'x-autolab-run': options.run } : {});
}

const origin = () => new URL(server.baseUrl).origin;

function post(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${server.baseUrl}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer anything', ...headers },
    body,
  });
}

// biome-ignore lint/suspicious/noExplicitAny: OpenAI response bodies are read loosely in assertions
type Json = any;

/** The arguments of the forced tool call, parsed; fails the test if the reply is not a tool call. */
async function argsOf(res: Response): Promise<Json> {
  expect(res.status).toBe(200);
  const body: Json = await res.json();
  return JSON.parse(body.choices[0].message.tool_calls[0].function.arguments);
}

/** Reads an SSE response into its `data:` payloads (`[DONE]` kept as the string). */
async function sse(res: Response): Promise<Json[]> {
  expect(res.headers.get('content-type')).toBe('text/event-stream');
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((event) => event.startsWith('data: '))
    .map((event) => event.slice('data: '.length))
    .map((data) => (data === '[DONE]' ? data : JSON.parse(data)));
}

describe('scripted OpenAI server over HTTP', () => {
  it('lists one model per scenario file', async () => {
    const res = await fetch(`${server.baseUrl}/models`);
    const body: Json = await res.json();
    expect(body.object).toBe('list');
    expect(body.data.map((m: Json) => m.id)).toEqual(['basic', 'broken', 'escape', 'typo']);
    expect(body.data[0]).toMatchObject({ object: 'model', owned_by: 'autolab-scripted' });
  });

  it('answers a forced tool with a chat.completion carrying one tool call', async () => {
    const res = await chat({ tools: ['propose_plan'], force: 'propose_plan' });
    expect(res.status).toBe(200);
    const body: Json = await res.json();
    expect(body).toMatchObject({ object: 'chat.completion', model: 'basic' });
    expect(body.id).toMatch(/^chatcmpl-/);
    const choice = body.choices[0];
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.role).toBe('assistant');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toHaveLength(1);
    expect(choice.message.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'propose_plan' } });
    expect(choice.message.tool_calls[0].id).toMatch(/^call_[a-f0-9]{24}$/);
    expect(JSON.parse(choice.message.tool_calls[0].function.arguments)).toEqual({ title: 'first' });
  });

  it('keeps a cursor per run header and repeats the last item', async () => {
    const plan = (run?: string) => chat({ run, tools: ['propose_plan'], force: 'propose_plan' }).then(argsOf);
    expect(await plan()).toEqual({ title: 'first' });
    expect(await plan()).toEqual({ title: 'second' });
    expect(await plan()).toEqual({ title: 'second' });
    // Another run of the same scenario starts at the top, and `scripted/<name>` is the same scenario.
    expect(await plan('run-b')).toEqual({ title: 'first' });
    expect(await chat({ model: 'scripted/basic', run: 'run-b', force: 'propose_plan' }).then(argsOf)).toEqual({
      title: 'second',
    });
    expect(server.callsFor('default').map((c) => c.index)).toEqual([0, 1, 1]);
    expect(server.callsFor('run-b').map((c) => c.index)).toEqual([0, 1]);
  });

  it('picks the reply list by forced tool, else the first tool, else "text"', async () => {
    // Each key has its own cursor: answering write_code does not move propose_plan's.
    expect(await chat({ tools: ['write_code', 'propose_plan'] }).then(argsOf)).toMatchObject({ note: 'kept' });
    expect(await chat({ tools: ['write_code', 'propose_plan'], force: 'propose_plan' }).then(argsOf)).toEqual({
      title: 'first',
    });
    const text: Json = await (await chat()).json();
    expect(text.choices[0].message).toEqual({
      role: 'assistant',
      content: 'Hello from the script, streamed in pieces.',
      refusal: null,
    });
    expect(text.choices[0].finish_reason).toBe('stop');
    expect(server.calls.map((c) => c.key)).toEqual(['write_code', 'propose_plan', 'text']);
  });

  it('replaces {$file} objects with the file text', async () => {
    const args = await chat({ force: 'write_code' }).then(argsOf);
    expect(args).toEqual({ code: HELLO_PY, files: [HELLO_PY], note: 'kept' });
  });

  it('sends rawArguments verbatim and calls the function named by `tool`', async () => {
    const raw: Json = await (await chat({ force: 'broken_json' })).json();
    expect(raw.choices[0].message.tool_calls[0].function).toEqual({ name: 'broken_json', arguments: '{"plan": "oops' });
    const other: Json = await (await chat({ tools: ['improve', 'finish'] })).json();
    expect(other.choices[0].message.tool_calls[0].function).toEqual({
      name: 'finish',
      arguments: '{"reason":"enough"}',
    });
  });

  it('answers error items with their status in OpenAI error shape, `times` times each', async () => {
    const first = await chat({ force: 'flaky' });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('0');
    expect(await first.json()).toEqual({
      error: { message: 'slow down', type: 'rate_limit_exceeded', param: null, code: null },
    });
    expect((await chat({ force: 'flaky' })).status).toBe(429);
    const third = await chat({ force: 'flaky' });
    expect(third.status).toBe(500);
    expect(((await third.json()) as Json).error).toMatchObject({ message: 'boom', type: 'server_error' });
    for (let i = 0; i < 2; i++) {
      const ok: Json = await (await chat({ force: 'flaky' })).json();
      expect(ok.choices[0].message.content).toBe('recovered');
    }
    expect(server.calls.map((c) => c.index)).toEqual([0, 0, 1, 2, 2]);
    expect(server.calls[0]!.completionTokens).toBe(0);
  });

  it('waits delayMs before answering', async () => {
    const started = Date.now();
    const res: Json = await (await chat({ force: 'slow' })).json();
    expect(res.choices[0].message.content).toBe('late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('plays scripted faults: bodies that are not completions, dropped connections, a request never answered', async () => {
    const faulty = () => chat({ tools: ['faulty'], force: 'faulty', run: 'faults' });
    const notJson = await faulty();
    expect(notJson.status).toBe(200);
    expect(notJson.headers.get('content-type')).toBe('application/json');
    expect(await notJson.text()).toMatch(/^<html>/);
    const truncated = await (await faulty()).text();
    expect(truncated).toMatch(/^\{"id":"chatcmpl-/);
    expect(() => JSON.parse(truncated)).toThrow(SyntaxError);
    const empty = await faulty();
    expect(empty.status).toBe(200);
    expect(await empty.text()).toBe('');
    const error200 = await faulty();
    expect(error200.status).toBe(200);
    expect(await error200.json()).toMatchObject({ error: { type: 'server_error' } });
    const reset = await faulty().catch((err: Error) => err);
    expect(reset).toBeInstanceOf(Error);
    expect(JSON.stringify((reset as Error & { cause?: { code?: string } }).cause?.code)).toContain('ECONNRESET');
    const cut = await faulty();
    expect(cut.status).toBe(200);
    await expect(cut.text()).rejects.toThrow(/terminated/);
    const started = Date.now();
    const hung = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-autolab-run': 'faults' },
      body: JSON.stringify({ model: 'basic', messages: [{ role: 'user', content: 'go' }], tools: [fn('faulty')] }),
      signal: AbortSignal.timeout(300),
    }).catch((err: Error) => err);
    expect(hung).toBeInstanceOf(Error);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    const stalled = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-autolab-run': 'faults' },
      body: JSON.stringify({ model: 'basic', messages: [{ role: 'user', content: 'go' }], tools: [fn('faulty')] }),
      signal: AbortSignal.timeout(300),
    });
    expect(stalled.status).toBe(200);
    await expect(stalled.text()).rejects.toThrow();
    expect(await (await faulty()).json()).toMatchObject({ choices: [{ message: { content: 'healthy again' } }] });
    const faults = server.callsFor('faults').map((c) => c.fault);
    expect(faults).toEqual([
      'not-json',
      'truncated',
      'empty',
      'error-200',
      'reset',
      'reset-mid-body',
      'hang',
      'stall-mid-body',
      null,
    ]);
  });

  it('streams a tool call as OpenAI chunks that reassemble to the arguments', async () => {
    const events = await sse(await chat({ force: 'write_code', stream: true, usage: true }));
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1);
    for (const c of chunks) expect(c).toMatchObject({ object: 'chat.completion.chunk', model: 'basic' });
    expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
    expect(chunks[0].choices[0].delta.role).toBe('assistant');

    const toolDeltas = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(toolDeltas[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'write_code' } });
    expect(toolDeltas[0].id).toMatch(/^call_/);
    const rest = toolDeltas.slice(1);
    expect(rest.length).toBeGreaterThan(1);
    for (const d of rest) expect(Object.keys(d.function)).toEqual(['arguments']);
    const args = toolDeltas.map((d) => d.function.arguments).join('');
    expect(JSON.parse(args)).toEqual({ code: HELLO_PY, files: [HELLO_PY], note: 'kept' });

    const finish = chunks.at(-2);
    expect(finish.choices[0]).toMatchObject({ delta: {}, finish_reason: 'tool_calls' });
    const usage = chunks.at(-1);
    expect(usage.choices).toEqual([]);
    expect(usage.usage.completion_tokens).toBe(tokensOf(`write_code${args}`));
    expect(server.calls[0]!.stream).toBe(true);
  });

  it('streams content in pieces, and sends usage only when asked', async () => {
    const events = await sse(await chat({ stream: true }));
    const chunks = events.slice(0, -1);
    expect(chunks[0].choices[0].delta).toMatchObject({ role: 'assistant', content: '' });
    const pieces = chunks.map((c) => c.choices[0].delta.content ?? '');
    expect(pieces.filter((p) => p !== '').length).toBeGreaterThan(1);
    expect(pieces.join('')).toBe('Hello from the script, streamed in pieces.');
    expect(chunks.at(-1).choices[0].finish_reason).toBe('stop');
    expect(chunks.every((c) => c.usage === undefined)).toBe(true);
  });

  it("counts usage in cl100k_base tokens with OpenAI's message framing, and records the call", async () => {
    const messages = [
      { role: 'system', content: 'You are terse.' },
      { role: 'user', content: [{ type: 'text', text: 'Plan the experiment.' }] },
    ];
    const res = await chat({ run: 'usage-run', tools: ['propose_plan'], force: 'propose_plan', messages });
    const body: Json = await res.json();
    const toolsJson = JSON.stringify([fn('propose_plan')]);
    const promptChars = 'You are terse.'.length + 'Plan the experiment.'.length + toolsJson.length;
    // 3 tokens of framing per message and its role, the contents, the tools' JSON, 3 to prime the reply.
    const promptTokens =
      3 + tokensOf('system') + tokensOf('You are terse.') + 3 + tokensOf('user') + tokensOf('Plan the experiment.');
    const prompt = promptTokens + tokensOf(toolsJson) + 3;
    const { name, arguments: args } = body.choices[0].message.tool_calls[0].function;
    const completion = tokensOf(name + args);
    expect(body.usage).toEqual({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
      prompt_tokens_details: { cached_tokens: 0 },
    });
    const [call] = server.callsFor('usage-run');
    expect(call).toMatchObject<Partial<ScriptedCall>>({
      runKey: 'usage-run',
      scenario: 'basic',
      key: 'propose_plan',
      index: 0,
      promptChars,
      promptTokens: prompt,
      cachedTokens: 0,
      completionTokens: completion,
      stream: false,
    });
    expect(Math.abs(call!.at - Date.now())).toBeLessThan(5000);
  });

  it('simulates a prefix cache: the prefix shared with an earlier request of the run, in 128-token blocks from 1024', async () => {
    const system = { role: 'system', content: 'word '.repeat(1500) };
    const ask = async (run: string, user: string, model = 'basic') => {
      const res = await chat({ run, model, messages: [system, { role: 'user', content: user }] });
      return ((await res.json()) as Json).usage;
    };
    const first = await ask('cache-a', 'first question');
    expect(first.prompt_tokens_details).toEqual({ cached_tokens: 0 });
    const second = await ask('cache-a', 'second question');
    // The system message (1500 tokens, its framing and role) and the user's framing are shared; the question is not.
    const shared = 3 + tokensOf('system') + tokensOf('word '.repeat(1500)) + 3 + tokensOf('user');
    expect(second.prompt_tokens_details.cached_tokens).toBe(Math.floor(shared / 128) * 128);
    expect(second.prompt_tokens_details.cached_tokens).toBeGreaterThanOrEqual(1024);
    // Another run, another model: nothing cached. A reported hit is part of the prompt tokens.
    expect((await ask('cache-b', 'second question')).prompt_tokens_details.cached_tokens).toBe(0);
    expect((await ask('cache-a', 'second question', 'basic@json-schema')).prompt_tokens_details.cached_tokens).toBe(0);
    // Under 1024 shared tokens: no hit.
    const short = async (run: string) =>
      ((await (await chat({ run, messages: [{ role: 'user', content: 'word '.repeat(900) }] })).json()) as Json).usage;
    await short('cache-c');
    expect((await short('cache-c')).prompt_tokens_details.cached_tokens).toBe(0);
    expect(server.callsFor('cache-a').map((c) => c.cachedTokens)).toEqual([
      0,
      second.prompt_tokens_details.cached_tokens,
      0,
    ]);
  });

  it('serves the recorded calls per run at /_scripted/calls', async () => {
    await chat({ run: 'a', force: 'propose_plan' });
    await chat({ run: 'b', force: 'propose_plan' });
    await chat({ run: 'a', force: 'write_code' });
    const forA = (await (await fetch(`${origin()}/_scripted/calls?run=a`)).json()) as ScriptedCall[];
    expect(forA.map((c) => c.key)).toEqual(['propose_plan', 'write_code']);
    expect(forA).toEqual(server.callsFor('a'));
    const all = (await (await fetch(`${origin()}/_scripted/calls`)).json()) as ScriptedCall[];
    expect(all).toHaveLength(3);
    server.reset();
    expect(server.calls).toEqual([]);
    expect(await chat({ run: 'a', force: 'propose_plan' }).then(argsOf)).toEqual({ title: 'first' });
  });

  it('answers an unknown model with 404 model_not_found', async () => {
    for (const model of ['nope', '../basic', 'scripted/nope']) {
      const res = await chat({ model });
      expect(res.status).toBe(404);
      const body: Json = await res.json();
      expect(body.error).toMatchObject({ type: 'invalid_request_error', param: 'model', code: 'model_not_found' });
      expect(body.error.message).toContain(model);
    }
  });

  it('speaks the dialect a model-name suffix names; an unknown dialect is an unknown model', async () => {
    const unknown = await chat({ model: 'basic@klingon', force: 'propose_plan' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as Json).error.message).toContain('unknown dialect "klingon"');

    const refused = await chat({ model: 'basic@no-tools', tools: ['propose_plan'], force: 'propose_plan' });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as Json).error).toMatchObject({
      message: 'registry.ollama.ai/library/basic:latest does not support tools',
      type: 'api_error',
    });
    // A text-mode request (no tools; the tool named in the prompt) gets the call as text, and the 400 used no item.
    const text: Json = await (
      await chat({ model: 'basic@no-tools', messages: [{ role: 'system', content: '### Tool: `propose_plan`\n…' }] })
    ).json();
    expect(text.choices[0].message.tool_calls).toBeUndefined();
    expect(text.choices[0].message.content).toContain('"title": "first"');

    const fenced: Json = await (await chat({ model: 'basic@fenced', force: 'propose_plan' })).json();
    expect(fenced.choices[0].message.content).toMatch(/^I will call `propose_plan` now\.\n\n```json\n/);
    const bare: Json = await (await chat({ model: 'basic@no-usage', force: 'propose_plan' })).json();
    expect(bare.usage).toBeUndefined();
    expect(server.calls.map((c) => [c.dialect, c.offeredTools])).toEqual([
      ['no-tools', true],
      ['no-tools', false],
      ['fenced', true],
      ['no-usage', true],
    ]);
  });

  it('answers 400 when the scenario has no replies for the key', async () => {
    for (const key of ['write_paper', 'constructor']) {
      const res = await chat({ force: key });
      expect(res.status).toBe(400);
      const body: Json = await res.json();
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toContain(`scenario "basic" has no replies for "${key}"`);
    }
  });

  it('answers malformed bodies with 400 and keeps serving', async () => {
    const notJson = await post('{"model": "basic", ');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as Json).error.type).toBe('invalid_request_error');
    const noMessages = await post(JSON.stringify({ model: 'basic' }));
    expect(noMessages.status).toBe(400);
    expect(((await noMessages.json()) as Json).error.param).toBe('messages');
    const badTools = await post(JSON.stringify({ model: 'basic', messages: [{ role: 'user' }], tools: [{}] }));
    expect(badTools.status).toBe(400);
    expect((await chat({ force: 'propose_plan' })).status).toBe(200);
    expect(server.calls).toHaveLength(1);
  });

  it('answers 500 naming the file and the problem when a scenario is broken', async () => {
    const cases = [
      { model: 'typo', expected: [/typo\.yaml is invalid/, /replies\.t\[0\]/, /argument/] },
      { model: 'broken', expected: [/broken\.yaml is not valid YAML/] },
      { model: 'escape', expected: [/escape\.yaml/, /\$file "\.\.\/secret\.txt" is outside the scenario directory/] },
    ];
    for (const { model, expected } of cases) {
      const res = await chat({ model, force: 't' });
      expect(res.status).toBe(500);
      const body: Json = await res.json();
      expect(body.error.type).toBe('server_error');
      for (const pattern of expected) expect(body.error.message).toMatch(pattern);
      expect(body.error.message).not.toContain('not for scenarios');
    }
  });

  it('answers unknown URLs with 404 in OpenAI error shape', async () => {
    const res = await fetch(`${server.baseUrl}/completions`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(404);
    expect(((await res.json()) as Json).error.message).toContain('/v1/completions');
  });

  it('refuses to start on a missing scenario directory', async () => {
    await expect(startScriptedServer({ scenarioDirs: [join(root, 'missing')] })).rejects.toThrow(/does not exist/);
  });
});

describe('LangChain ChatOpenAI against the scripted server', () => {
  const tool = (name: string) => ({
    type: 'function' as const,
    function: {
      name,
      description: `The ${name} tool.`,
      parameters: { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] },
    },
  });
  const force = (name: string) => ({ tool_choice: { type: 'function' as const, function: { name } } });
  const model = (run: string, streaming = false) =>
    new ChatOpenAI({
      model: 'basic',
      apiKey: 'test',
      maxRetries: 0,
      streaming,
      configuration: { baseURL: server.baseUrl, defaultHeaders: { 'X-Autolab-Run': run } },
    });

  const expectPlanWithUsage = (message: AIMessage, run: string, stream: boolean) => {
    expect(message.tool_calls).toHaveLength(1);
    expect(message.tool_calls![0]).toMatchObject({ name: 'propose_plan', args: { title: 'first' } });
    const [call] = server.callsFor(run);
    expect(call).toMatchObject({ key: 'propose_plan', stream });
    expect(message.usage_metadata).toMatchObject({
      input_tokens: call!.promptTokens,
      output_tokens: call!.completionTokens,
      total_tokens: call!.promptTokens + call!.completionTokens,
    });
  };

  it('reads the tool call and usage from a non-streamed answer', async () => {
    const bound = model('lc-plain').bindTools([tool('propose_plan')], force('propose_plan'));
    expectPlanWithUsage((await bound.invoke('Plan an experiment.')) as AIMessage, 'lc-plain', false);
  });

  it('reassembles a streamed tool call and its usage', async () => {
    // Through .stream(): with `streaming: true`, .invoke() also estimates token counts with js-tiktoken, which
    // downloads its encoding and so hangs without network (a LangChain behaviour, not the server's).
    const bound = model('lc-stream', true).bindTools([tool('propose_plan')], force('propose_plan'));
    let message: AIMessageChunk | undefined;
    for await (const chunk of await bound.stream('Plan an experiment.')) message = message?.concat(chunk) ?? chunk;
    expectPlanWithUsage(message as AIMessage, 'lc-stream', true);
  });

  it('reports rawArguments that are not JSON as invalid_tool_calls', async () => {
    const bound = model('lc-raw').bindTools([tool('broken_json')], force('broken_json'));
    const message = (await bound.invoke('Plan.')) as AIMessage;
    expect(message.tool_calls ?? []).toEqual([]);
    expect(message.invalid_tool_calls?.[0]).toMatchObject({ name: 'broken_json', args: '{"plan": "oops' });
  });

  it('surfaces scripted HTTP errors with their status', async () => {
    const bound = model('lc-error').bindTools([tool('flaky')], force('flaky'));
    await expect(bound.invoke('Plan.')).rejects.toMatchObject({ status: 429 });
  });
});

describe('the shipped scenarios', () => {
  it('all load and validate', async () => {
    const files = (await readdir(BUILTIN_SCENARIOS_DIR)).filter((f) => f.endsWith('.yaml'));
    expect(files).toEqual(expect.arrayContaining(['demo.yaml', 'malformed.yaml']));
    for (const file of files) await loadScenario(join(BUILTIN_SCENARIOS_DIR, file));
  });

  const toolArgs = (scenario: Scenario, key: string): Json[] =>
    scenario.replies[key]!.flatMap((r) => (r.kind === 'tool_call' ? parsedOrNothing(r.arguments) : []));

  /** malformed.yaml sends invalid JSON on purpose; those items are not checked here. */
  const parsedOrNothing = (text: string): Json[] => {
    try {
      return [JSON.parse(text)];
    } catch {
      return [];
    }
  };

  /** Paper sections must take every measured number from the result macros. */
  const typedNumbers = (latex: string) =>
    latex
      .replace(/\\noderesult\{[^}]*\}\{[^}]*\}|\\result\{[^}]*\}/g, '')
      .replace(/\\(?:ref|label)\{[^}]*\}/g, '') // Table~\ref{tab:results}, Figure~\ref{fig:1}
      .replace(/\$[^$]*\$/g, '') // formulas such as $\log(1 + e^{t})$
      .replace(/\bn\d{3}\b/g, '')
      .match(/\d+/g) ?? [];

  const PAPER_SECTIONS = [
    'title',
    'abstract',
    'introduction',
    'related_work',
    'method',
    'experimental_setup',
    'results',
    'ablations',
    'limitations',
    'conclusion',
  ];
  const PROGRAM_KEYS = [
    'draft_experiment',
    'debug_experiment',
    'tune_experiment',
    'improve_experiment',
    'ablate_experiment',
  ];

  it.each(['demo', 'malformed'])(
    '%s.yaml loads, with complete seeded programs and a paper without typed numbers',
    async (name) => {
      const scenario = await loadScenario(join(BUILTIN_SCENARIOS_DIR, `${name}.yaml`));
      expect(Object.keys(scenario.replies)).toEqual(
        expect.arrayContaining([
          'propose_ideas',
          'refine_ideas',
          ...PROGRAM_KEYS,
          'review_execution',
          'write_plot_code',
          'write_paper',
          'fix_latex',
          'submit_review',
          'submit_meta_review',
        ]),
      );
      for (const key of ['propose_ideas', 'refine_ideas']) {
        const ideas = toolArgs(scenario, key).at(-1).ideas;
        expect(ideas[0].metric).toEqual(
          expect.objectContaining({ name: 'final_loss_standardized', direction: 'minimize' }),
        );
      }
      const programs = PROGRAM_KEYS.flatMap((key) => toolArgs(scenario, key)).filter(
        (args) => typeof args.code === 'string',
      );
      expect(programs.length).toBeGreaterThanOrEqual(5);
      for (const { code } of programs) {
        expect(code).toContain('results.json');
        expect(code).toContain('SEED = int(os.environ.get("SEED", "0"))');
      }
      const plot = toolArgs(scenario, 'write_plot_code').at(-1);
      expect(plot.code).toContain('results_all.json');
      for (const { file } of plot.captions) expect(plot.code).toContain(file);
      for (const key of ['write_paper', 'fix_latex']) {
        const paper = toolArgs(scenario, key).at(-1);
        for (const section of PAPER_SECTIONS) {
          expect(typeof paper[section], `${name} ${key}.${section}`).toBe('string');
          expect(typedNumbers(paper[section]), `${name} ${key}.${section}`).toEqual([]);
          expect(paper[section], `${name} ${key}.${section}`).not.toMatch(/\\cite/);
        }
      }
    },
  );
});
