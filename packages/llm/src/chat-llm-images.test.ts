import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelMode } from '@autolab/contracts';
import type { PromptImage } from '@autolab/engine';
import { type ScriptedServer, startScriptedServer } from '@autolab/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChatLlm, type TranscriptEntry } from './chat-llm.js';

/**
 * A request's images reach the server as `image_url` parts (base64 data URLs) after the prompt text, in every mode:
 * native tools (through LangChain), `json` and `text` (through the OpenAI SDK). The scripted server decodes them and
 * counts them per call; the transcript names them without their bytes.
 */
let dir: string;
let server: ScriptedServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chat-llm-images-'));
  await writeFile(
    join(dir, 'seer.yaml'),
    'replies:\n  look:\n    - arguments: { seen: "two figures" }\n  text:\n    - content: "no tool"\n',
  );
  server = await startScriptedServer({ scenarioDirs: [dir] });
});

afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

const tool = { name: 'look', description: 'Say what you see.', schema: z.object({ seen: z.string() }) };
// Bytes, not a decoded picture: neither the client nor the server parses an image.
const images: PromptImage[] = [
  {
    name: 'a.png',
    mediaType: 'image/png',
    data: Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(3000, 7)]),
  },
  { name: 'b.png', mediaType: 'image/png', data: Buffer.alloc(1234, 1) },
];

describe('ChatLlm sends images', () => {
  it.each(['tools', 'json', 'text'] as ModelMode[])('in %s mode, as image_url parts after the prompt', async (mode) => {
    const runId = `images-${mode}`;
    const transcript: TranscriptEntry[] = [];
    const client = new ChatLlm({
      baseUrl: server.baseUrl,
      apiKey: 'sk-test',
      model: 'seer',
      runId,
      prices: {},
      timeoutMs: 10_000,
      maxAttempts: 1,
      mode,
      onCall: (entry) => transcript.push(entry),
    });
    const reply = await client.callTool(
      { purpose: 'figure_critique', role: 'vision', system: 'sys', prompt: 'Look.', tools: [tool], images },
      new AbortController().signal,
    );
    expect(reply).toMatchObject({ ok: true, value: { seen: 'two figures' }, mode });
    const [call] = server.callsFor(runId);
    expect(call).toMatchObject({ key: 'look', model: 'seer', images: [3008, 1234] });
    // An image counts as a fixed number of prompt tokens, not as the length of its base64 text.
    expect(call!.promptTokens).toBeLessThan(1000);
    const [entry] = transcript;
    expect(entry!.images).toEqual(
      images.map((image) => ({
        name: image.name,
        mediaType: 'image/png',
        bytes: image.data.length,
        sha256: createHash('sha256').update(image.data).digest('hex'),
      })),
    );
    expect(JSON.stringify(entry)).not.toContain(images[1]!.data.toString('base64'));
  });

  it.each(['no-tools', 'fenced', 'tool-tags', 'json-schema'])(
    'in auto mode against the %s dialect, every request carries the images',
    async (dialect) => {
      const runId = `images-auto-${dialect}`;
      const client = new ChatLlm({
        baseUrl: server.baseUrl,
        apiKey: 'sk-test',
        model: `seer@${dialect}`,
        runId,
        prices: {},
        maxAttempts: 1,
      });
      const reply = await client.callTool(
        { purpose: 'figure_critique', role: 'vision', system: 'sys', prompt: 'Look.', tools: [tool], images },
        new AbortController().signal,
      );
      expect(reply).toMatchObject({ ok: true, value: { seen: 'two figures' } });
      const calls = server.callsFor(runId);
      expect(calls.length).toBeGreaterThan(0);
      for (const call of calls) expect(call.images).toEqual([3008, 1234]);
    },
  );

  it('a call without images sends the prompt as plain text', async () => {
    const client = new ChatLlm({
      baseUrl: server.baseUrl,
      apiKey: 'sk-test',
      model: 'seer',
      runId: 'no-images',
      prices: {},
      maxAttempts: 1,
      mode: 'tools',
    });
    await client.callTool(
      { purpose: 'judge', role: 'judge', system: 'sys', prompt: 'Look.', tools: [tool] },
      new AbortController().signal,
    );
    expect(server.callsFor('no-images')[0]!.images).toEqual([]);
  });

  it('the server refuses an image part that is not a data URL', async () => {
    const response = await fetch(`${server.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'seer',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'https://example.com/a.png' } }] }],
      }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_image_url');
  });
});
