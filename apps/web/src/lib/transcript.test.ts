import { describe, expect, it } from 'vitest';
import { callTotals, parseTranscript } from './transcript.js';

const line = (over: Record<string, unknown>) =>
  JSON.stringify({
    at: '2026-01-01T00:00:00Z',
    purpose: 'draft',
    nodeId: 'n001',
    model: 'demo',
    mode: 'tools',
    system: 'You are a scientist.',
    prompt: 'Write the experiment.',
    tools: ['draft_experiment'],
    reply: { tool: 'draft_experiment', arguments: { plan: 'p', code: 'print(1)' }, content: '', error: null },
    usage: { model: 'demo', promptTokens: 100, completionTokens: 20, cachedTokens: 0, estimated: false, costUsd: 0.01 },
    attempts: 1,
    ...over,
  });

describe('the model transcript', () => {
  it('reads each call with its node, prompt, reply, tokens and cost', () => {
    const calls = parseTranscript(
      [
        line({}),
        line({
          purpose: 'ideas',
          nodeId: undefined,
          reply: { tool: null, arguments: null, content: 'not JSON <b>at all</b>', error: 'no tool call' },
          retryOf: 'invalid JSON',
        }),
      ].join('\n'),
    );
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      index: 0,
      purpose: 'draft',
      nodeId: 'n001',
      tool: 'draft_experiment',
      prompt: 'Write the experiment.',
      promptTokens: 100,
      completionTokens: 20,
      costUsd: 0.01,
    });
    expect(JSON.parse(calls[0]!.reply)).toEqual({ plan: 'p', code: 'print(1)' });
    // A reply that was no tool call is its text, as it came (shown as text, never as HTML).
    expect(calls[1]).toMatchObject({
      nodeId: null,
      tool: null,
      reply: 'not JSON <b>at all</b>',
      error: 'no tool call',
      retryOf: 'invalid JSON',
    });
    expect(callTotals(calls)).toEqual({ tokens: 240, costUsd: 0.02 });
  });

  it('skips lines that are cut short or not calls', () => {
    const text = `${line({})}\n{"purpose": "dra\n[1,2]\n\n${line({ nodeId: 'n002' })}\n`;
    expect(parseTranscript(text).map((c) => [c.index, c.nodeId])).toEqual([
      [0, 'n001'],
      [1, 'n002'],
    ]);
  });
});
