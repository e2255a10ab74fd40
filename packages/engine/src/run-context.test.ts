import type { NewEvent } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { CallUsage, Llm, RunProgress, RunSink, ToolCallRequest, ToolCallResult } from './ports.js';
import { MAX_REASKS, type ResearchRunInput, RunContext } from './run-context.js';
import { freshState } from './run-state.js';

/** `ask` re-asks unusable replies the adapter marks as worth it, and every call is counted and priced on its own. */

const usage = (completionTokens = 10): CallUsage => ({
  model: 'm',
  promptTokens: 100,
  completionTokens,
  cachedTokens: 0,
  estimated: false,
  costUsd: 0.01,
  priced: true,
});
const ok: ToolCallResult = { ok: true, tool: 't', value: { x: 1 }, usage: usage(), mode: 'text' };
const invalid: ToolCallResult = {
  ok: false,
  error: 'x: expected number',
  raw: '{"x": "one"}',
  usage: usage(),
  mode: 'text',
  reask: 'invalid',
};
const cutOff: ToolCallResult = {
  ok: false,
  error: 'the reply was cut off',
  raw: '{"x":',
  usage: usage(300),
  reask: 'truncated',
};

class ScriptedLlm implements Llm {
  readonly requests: ToolCallRequest[] = [];
  constructor(private readonly replies: ToolCallResult[]) {}
  async callTool(request: ToolCallRequest): Promise<ToolCallResult> {
    this.requests.push(request);
    return this.replies.shift()!;
  }
}

class MemorySink implements RunSink {
  events: NewEvent[] = [];
  async emit(event: NewEvent) {
    this.events.push(event);
  }
  async progress(_progress: RunProgress) {}
  async saveCheckpoint() {}
  async saveArtifact() {}
  async loadArtifact() {
    return null;
  }
}

function context(replies: ToolCallResult[], maxTokens: number | null = null) {
  const llm = new ScriptedLlm(replies);
  const sink = new MemorySink();
  const input = { budgetUsd: 10, maxIterations: 5, policy: { maxTokens } } as unknown as ResearchRunInput;
  const ctx = new RunContext(
    input,
    { llm, sink, clock: { now: Date.now } } as never,
    new AbortController().signal,
    freshState(),
  );
  const ask = () =>
    ctx.ask('draft', 'sys', 'go', [{ name: 't', description: 'd', schema: z.object({ x: z.number() }) }]);
  return { ctx, llm, sink, ask };
}

const ofType = (sink: MemorySink, type: string) => sink.events.filter((e) => e.type === type);

describe('RunContext.ask', () => {
  it('asks again with the reply and the exact error; each call has its own cost event', async () => {
    const { ctx, llm, sink, ask } = context([invalid, ok]);
    expect(await ask()).toBe(ok);
    expect(llm.requests[1]!.retry).toEqual({ reply: invalid.raw, error: invalid.error });
    expect(ctx.state.usage.calls).toBe(2);
    expect(ctx.state.usage.costUsd).toBeCloseTo(0.02);
    expect(ofType(sink, 'cost.updated')).toHaveLength(2);
    expect(ofType(sink, 'error').map((e) => e.message)).toEqual([
      'The model\'s answer for "draft" was unusable: x: expected number; asking again with the error.',
    ]);
    expect(ctx.state.consecutiveMalformed).toBe(0);
    expect(ctx.modelModes).toEqual({ m: 'text' });
  });

  it(`gives up after ${MAX_REASKS} re-asks, and counts that as one failed step`, async () => {
    const { ctx, llm, ask } = context([invalid, invalid, invalid, ok]);
    expect(await ask()).toMatchObject({ ok: false });
    expect(llm.requests).toHaveLength(1 + MAX_REASKS);
    expect(ctx.state.usage.calls).toBe(1 + MAX_REASKS);
    expect(ctx.state.consecutiveMalformed).toBe(1);
  });

  it('does not re-ask what the adapter does not mark as worth it', async () => {
    const { llm, ask } = context([{ ...invalid, reask: undefined }, ok]);
    expect(await ask()).toMatchObject({ ok: false });
    expect(llm.requests).toHaveLength(1);
  });

  it('asks for a cut-off reply again with a larger completion limit', async () => {
    const { llm, sink, ask } = context([cutOff, ok]);
    expect(await ask()).toBe(ok);
    expect(llm.requests[1]!.retry).toMatchObject({ maxReplyTokens: 4096 });
    expect(ofType(sink, 'error')[0]!.message).toContain('asking again with a limit of 4096 tokens');
  });

  it("within the run's token cap: no room for a longer reply, no re-ask", async () => {
    const tight = context([cutOff, ok], 750);
    expect(await tight.ask()).toMatchObject({ ok: false, reask: 'truncated' });
    expect(tight.llm.requests).toHaveLength(1);
    const roomy = context([cutOff, ok], 2000);
    expect(await roomy.ask()).toBe(ok);
    // 2000 − 400 spent − 100 for the prompt again.
    expect(roomy.llm.requests[1]!.retry).toMatchObject({ maxReplyTokens: 1500 });
  });

  it("sums cached and estimated tokens into the run's usage, and the cost event says which call had which", async () => {
    const cached: ToolCallResult = { ...ok, usage: { ...usage(), cachedTokens: 64 } };
    const estimated: ToolCallResult = { ...ok, usage: { ...usage(20), estimated: true } };
    const { ctx, sink, ask } = context([cached, estimated]);
    await ask();
    await ask();
    expect(ctx.state.usage).toMatchObject({ calls: 2, promptTokens: 200, cachedTokens: 64, estimatedTokens: 120 });
    const [first, second] = ofType(sink, 'cost.updated');
    expect(first!.data).toMatchObject({ cachedTokens: 64, estimated: false, total: { cachedTokens: 64 } });
    expect(first!.message).toContain('100 (64 cached)+10 tokens');
    expect(second!.data).toMatchObject({ cachedTokens: 0, estimated: true, total: { estimatedTokens: 120 } });
    expect(second!.message).toContain('estimated');
  });
});
