import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelMode, ModelModeSetting } from '@autolab/contracts';
import { LlmUnavailableError, type ToolCallRequest, type ToolCallResult } from '@autolab/engine';
import { DIALECTS, type Dialect, type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatLlm, type TranscriptEntry } from './chat-llm.js';
import type { ModeCache } from './model-mode.js';

/**
 * ChatLlm's modes against the scripted server speaking each dialect over HTTP: `auto` ends up with a working mode
 * for every dialect, remembers it, and the other modes send what they promise.
 */
const CODE = 'import json\nprint(json.dumps({"loss": 0.5}))  # it\'s "quoted"';
const ANSWER = { title: 'the answer', code: CODE };

let dir: string;
let server: ScriptedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-llm-modes-'));
  await writeFile(join(dir, 'answer.yaml'), `replies:\n  answer:\n    - arguments: ${JSON.stringify(ANSWER)}\n`);
  // A reply that does not validate (no title), then a good one: the re-ask case.
  await writeFile(
    join(dir, 'sloppy.yaml'),
    `replies:\n  answer:\n    - arguments: { code: "print(1)" }\n    - arguments: ${JSON.stringify(ANSWER)}\n`,
  );
  server = await startScriptedServer({ scenarioDirs: [dir] });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const tool = {
  name: 'answer',
  description: 'Answer with a program.',
  schema: z.object({ title: z.string().min(1), code: z.string().min(1) }),
};
let runs = 0;

class MemoryCache implements ModeCache {
  readonly entries = new Map<string, ModelMode>();
  async get(key: string) {
    return this.entries.get(key) ?? null;
  }
  async set(key: string, mode: ModelMode) {
    this.entries.set(key, mode);
  }
}

function llm(model: string, mode: ModelModeSetting = 'auto', modeCache?: ModeCache) {
  const runId = `modes-${++runs}`;
  const transcript: TranscriptEntry[] = [];
  const client = new ChatLlm({
    baseUrl: server.baseUrl,
    apiKey: 'sk-test',
    model,
    runId,
    prices: {},
    timeoutMs: 10_000,
    maxAttempts: 2,
    mode,
    ...(modeCache ? { modeCache } : {}),
    onCall: (entry) => transcript.push(entry),
  });
  /** As the engine's `ask` does: up to two re-asks when the reply says one may help. */
  const ask = async (asked: { system: string; prompt: string } = { system: 'sys', prompt: 'go' }) => {
    const results: ToolCallResult[] = [];
    let request: ToolCallRequest = { purpose: 'test', role: 'code', ...asked, tools: [tool] };
    for (let i = 0; i < 3; i++) {
      const result = await client.callTool(request, new AbortController().signal);
      results.push(result);
      if (result.ok || !result.reask) break;
      request = {
        ...request,
        retry: {
          reply: result.raw,
          error: result.error,
          ...(result.reask === 'truncated' ? { maxReplyTokens: 4 * result.usage.completionTokens } : {}),
        },
      };
    }
    return results;
  };
  return { ask, transcript, calls: () => server.callsFor(runId) };
}

const AUTO_MODE: Record<Dialect, ModelMode> = {
  tools: 'tools',
  'content-json': 'text',
  fenced: 'text',
  'tool-tags': 'text',
  'no-tools': 'text',
  'json-schema': 'tools',
  'code-fenced': 'text',
  'near-json': 'text',
  truncated: 'tools',
  'no-usage': 'tools',
};

describe('auto mode gets a valid call out of every dialect', () => {
  it.each(DIALECTS)('%s', async (dialect) => {
    const cache = new MemoryCache();
    const { ask, calls } = llm(`answer@${dialect}`, 'auto', cache);
    const results = await ask();
    expect(results.at(-1)).toMatchObject({ ok: true, tool: 'answer', value: ANSWER, mode: AUTO_MODE[dialect] });
    // One completion per call, and one more only for the cut-off reply; the 400 of no-tools made none.
    expect(results).toHaveLength(dialect === 'truncated' ? 2 : 1);
    expect(calls().filter((c) => c.completionTokens > 0)).toHaveLength(results.length);
    expect([...cache.entries.values()]).toEqual([AUTO_MODE[dialect]]);
    for (const r of results) expect(r.usage.promptTokens).toBeGreaterThan(0);
  });

  it('a remembered mode is where the next client starts: no tools are offered again', async () => {
    const cache = new MemoryCache();
    await llm('answer@no-tools', 'auto', cache).ask();
    const second = llm('answer@no-tools', 'auto', cache);
    expect((await second.ask())[0]).toMatchObject({ ok: true, mode: 'text' });
    expect(second.calls().map((c) => c.offeredTools)).toEqual([false]);
  });

  it('a reply that does not validate is asked again with the exact error, and the re-ask is its own call', async () => {
    const { ask, transcript, calls } = llm('sloppy@fenced');
    const results = await ask();
    expect(results.map((r) => r.ok)).toEqual([false, true]);
    expect(results[0]).toMatchObject({ reask: 'invalid', error: expect.stringContaining('title') });
    expect(transcript[1]!.retryOf).toContain('title');
    // The re-ask carries the reply and the error: a longer prompt.
    const [first, second] = calls();
    expect(second!.promptChars).toBeGreaterThan(first!.promptChars);
  });

  it('a cut-off reply is never parsed: asked again with a larger max_tokens', async () => {
    const { ask, calls } = llm('answer@truncated', 'text');
    const results = await ask();
    expect(results[0]).toMatchObject({ ok: false, reask: 'truncated', error: expect.stringContaining('length') });
    expect(results[1]).toMatchObject({ ok: true, value: ANSWER });
    expect(calls().map((c) => c.truncated)).toEqual([true, false]);
    // The raised limit stays: the next call is whole at once.
    expect(await ask()).toMatchObject([{ ok: true }]);
    expect(calls().map((c) => c.truncated)).toEqual([true, false, false]);
  });
});

describe('forced modes', () => {
  it('json sends response_format with the schema and no tools', async () => {
    const { ask, calls } = llm('answer@json-schema', 'json');
    expect((await ask())[0]).toMatchObject({ ok: true, value: ANSWER, mode: 'json' });
    expect(calls().map((c) => [c.offeredTools, c.responseFormat])).toEqual([[false, true]]);
  });

  it('text takes the program from the python block of a model that otherwise calls tools natively', async () => {
    const { ask, calls } = llm('answer@tools', 'text');
    expect((await ask())[0]).toMatchObject({ ok: true, value: ANSWER, mode: 'text' });
    expect(calls().map((c) => c.offeredTools)).toEqual([false]);
  });

  it('tools against a server without tool support fails at once and says what to set', async () => {
    const { ask, calls } = llm('answer@no-tools', 'tools');
    await expect(ask()).rejects.toThrow(LlmUnavailableError);
    await expect(llm('answer@no-tools', 'tools').ask()).rejects.toThrow(/does not support tools.*AUTOLAB_MODEL_MODE/);
    expect(calls()).toHaveLength(1);
  });
});

describe('usage', () => {
  /** A prompt like the engine's: instructions, a plan, a program and its output. */
  const asked = {
    system: `You are a careful empirical researcher. Your programs run as \`python3 experiment.py\` in a sandbox.
- NO network access: generate or simulate data.
The program MUST write results.json with the primary metric. Always answer by calling a tool.`.repeat(3),
    prompt: `Research goal:\nDoes feature scaling speed up gradient descent?\n\nIts code:\n\`\`\`python\n${CODE}\n${'for epoch in range(100):\n    loss = step(w, X, y, lr=0.1)\n    print(f"epoch {epoch}: loss={loss:.4f}")\n'.repeat(12)}\`\`\`\nEnd of its stderr:\n\`\`\`\nTraceback (most recent call last):\n  File "experiment.py", line 12\nValueError: shapes (3,) and (4,) not aligned\n\`\`\``,
  };

  it.each(['tools', 'text'] as const)(
    'without usage in the reply (%s mode), the estimate is within 3%% of what the server counts',
    async (mode) => {
      const [reported] = await llm('answer@tools', mode).ask(asked);
      const [estimated] = await llm('answer@no-usage', mode).ask(asked);
      expect(reported!.usage).toMatchObject({ estimated: false });
      expect(estimated!.usage).toMatchObject({ estimated: true });
      const off = (a: number, b: number) => Math.abs(a - b) / b;
      const promptOff = off(estimated!.usage.promptTokens, reported!.usage.promptTokens);
      const replyOff = off(estimated!.usage.completionTokens, reported!.usage.completionTokens);
      console.info(
        `${mode}: prompt ${estimated!.usage.promptTokens} estimated vs ${reported!.usage.promptTokens} counted (${(100 * promptOff).toFixed(1)}% off); reply ${estimated!.usage.completionTokens} vs ${reported!.usage.completionTokens} (${(100 * replyOff).toFixed(1)}% off)`,
      );
      expect(promptOff).toBeLessThan(0.03);
      expect(replyOff).toBeLessThan(0.03);
    },
  );

  it('reads the prefix-cache hits the server reports and prices them at the cached rate', async () => {
    const long = { system: 'Think step by step about the data. '.repeat(200), prompt: 'go' };
    const prices = { answer: { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 } };
    const runId = `modes-${++runs}`;
    for (const mode of ['tools', 'text'] as const) {
      const client = new ChatLlm({ baseUrl: server.baseUrl, apiKey: 'k', model: 'answer', runId, prices, mode });
      const call = (prompt: string) =>
        client.callTool({ purpose: 't', role: 'code', ...long, prompt, tools: [tool] }, new AbortController().signal);
      await call('first');
      const second = await call('second');
      const [, served] = server.callsFor(runId).slice(-2);
      expect(served!.cachedTokens).toBeGreaterThanOrEqual(1024);
      const { promptTokens, completionTokens, cachedTokens } = second.usage;
      expect(cachedTokens).toBe(served!.cachedTokens);
      expect(second.usage.costUsd).toBeCloseTo(
        ((promptTokens - cachedTokens) * 2 + cachedTokens * 0.5 + completionTokens * 8) / 1e6,
        12,
      );
    }
  });
});
