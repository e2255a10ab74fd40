import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LlmUnavailableError } from '@autolab/engine';
import { FAULTS, type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatLlm, type TranscriptEntry } from './chat-llm.js';

/**
 * ChatLlm through the real OpenAI SDK and LangChain against the scripted server over HTTP, with the server
 * misbehaving as a broken model server, proxy or network does: every transient fault is retried and the call
 * succeeds; permanent errors and aborts are not retried; attempts are bounded.
 */
const ANSWER = { title: 'the answer' };
const scenario = (items: string) => `replies:\n  answer:\n${items}    - arguments: { title: the answer }\n`;
const faultThenAnswer = (fault: string) => scenario(`    - fault: ${fault}\n`);

let dir: string;
let server: ScriptedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-llm-'));
  for (const fault of FAULTS) await writeFile(join(dir, `${fault}.yaml`), faultThenAnswer(fault));
  await writeFile(join(dir, 'unauthorized.yaml'), scenario('    - error: { status: 401, message: bad key }\n'));
  await writeFile(join(dir, 'always-broken.yaml'), 'replies:\n  answer:\n    - fault: not-json\n');
  await writeFile(join(dir, 'overloaded.yaml'), 'replies:\n  answer:\n    - error: { status: 503, message: busy }\n');
  server = await startScriptedServer({ scenarioDirs: [dir] });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const tool = { name: 'answer', description: 'Answer.', schema: z.object({ title: z.string() }) };
let runs = 0;

function llm(model: string, options: { timeoutMs?: number; maxAttempts?: number } = {}) {
  const runId = `run-${++runs}`;
  const transcript: TranscriptEntry[] = [];
  const client = new ChatLlm({
    baseUrl: server.baseUrl,
    apiKey: 'sk-test',
    model,
    runId,
    prices: {},
    timeoutMs: options.timeoutMs ?? 10_000,
    maxAttempts: options.maxAttempts ?? 3,
    onCall: (entry) => transcript.push(entry),
    // Short waits between attempts, still cut short by the signal.
    sleep: (ms, signal) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(resolve, Math.min(ms, 20));
        signal.addEventListener(
          'abort',
          () => {
            clearTimeout(timer);
            reject(signal.reason);
          },
          { once: true },
        );
      }),
  });
  const call = (signal = new AbortController().signal, nodeId?: string) =>
    client.callTool(
      { purpose: 'test', role: 'code', system: 'sys', prompt: 'go', tools: [tool], ...(nodeId ? { nodeId } : {}) },
      signal,
    );
  return { call, transcript, calls: () => server.callsFor(runId) };
}

describe('ChatLlm retries transient faults of the model server', () => {
  const hangs = ['hang', 'stall-mid-body'];
  it.each(FAULTS.filter((f) => !hangs.includes(f)))(
    '%s, then a good answer: the call succeeds on attempt 2',
    async (fault) => {
      const { call, transcript, calls } = llm(fault);
      const result = await call();
      expect(result).toMatchObject({ ok: true, tool: 'answer', value: ANSWER });
      expect(transcript.map((t) => t.attempts)).toEqual([2]);
      expect(calls().map((c) => c.fault)).toEqual([fault, null]);
    },
  );

  it.each(hangs)('%s: the request is abandoned after the timeout and retried', async (fault) => {
    const { call, transcript, calls } = llm(fault, { timeoutMs: 600 });
    const started = Date.now();
    const result = await call();
    expect(result.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(transcript[0]?.attempts).toBe(2);
    expect(calls().map((c) => c.fault)).toEqual([fault, null]);
  });

  it('files a call under the experiment it served in the transcript', async () => {
    const { call, transcript } = llm(FAULTS.find((f) => !f.includes('hang') && !f.includes('stall'))!);
    await call(new AbortController().signal, 'n007');
    await call();
    expect(transcript.map((t) => t.nodeId)).toEqual(['n007', undefined]);
  });

  it('gives up after maxAttempts, saying what the server did', async () => {
    const { call, calls } = llm('always-broken', { maxAttempts: 3 });
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmUnavailableError);
    expect((err as Error).message).toMatch(
      /after 3 attempt\(s\).*answered HTTP 200 with a body that is not valid JSON/,
    );
    expect(calls()).toHaveLength(3);
    const overloaded = await llm('overloaded', { maxAttempts: 2 })
      .call()
      .catch((e: Error) => e);
    expect((overloaded as Error).message).toMatch(/after 2 attempt\(s\).*HTTP 503/);
  });

  it('does not retry a permanent error', async () => {
    const { call, calls } = llm('unauthorized');
    const err = await call().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LlmUnavailableError);
    expect((err as Error).message).toMatch(/after 1 attempt\(s\).*HTTP 401/);
    expect(calls()).toHaveLength(1);
  });

  it('stops at once when the run is stopped during a hung request', async () => {
    const { call, calls } = llm('hang', { timeoutMs: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('run cancelled')), 300);
    const started = Date.now();
    await expect(call(controller.signal)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(5000);
    expect(calls()).toHaveLength(1);
  });
});
