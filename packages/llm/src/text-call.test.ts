import { callAsText, DIALECTS, nearJson } from '@autolab/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseTextCall, textModeInstructions } from './text-call.js';

const draft = {
  name: 'draft',
  description: 'Write the program.',
  schema: z.object({ plan: z.string().min(1), code: z.string().min(1) }),
};
const finish = { name: 'finish_stage', description: 'End the stage.', schema: z.object({ reason: z.string() }) };
const tools = [draft, finish];

/** A program with everything that breaks JSON strings: quotes of both kinds, backslashes, braces, newlines. */
const CODE = [
  'import json',
  'print("it\'s {ok}")',
  'd = {\'a\': 1, "b": [1, 2]}',
  'print(r"C:\\path\\n", json.dumps(d))',
].join('\n');
const ARGS = { plan: 'Fit a "baseline", then tune.', code: CODE };

describe('parseTextCall reads the call in every text form a dialect writes', () => {
  it.each(DIALECTS)('%s', (dialect) => {
    const text = callAsText(dialect, 'draft', JSON.stringify(ARGS));
    expect(parseTextCall(text, tools)).toEqual({ ok: true, tool: 'draft', value: ARGS });
  });

  it('the program from the ```python block beside the JSON, untouched', () => {
    const text = `Plan first.\n\`\`\`json\n{"name": "draft", "arguments": {"plan": "p"}}\n\`\`\`\n\`\`\`python\n${CODE}\n\`\`\``;
    expect(parseTextCall(text, tools)).toEqual({ ok: true, tool: 'draft', value: { plan: 'p', code: CODE } });
  });

  it('a bare object, the arguments only, for a single tool', () => {
    expect(parseTextCall('Sure: {"reason": "done"} — that is all.', [finish])).toEqual({
      ok: true,
      tool: 'finish_stage',
      value: { reason: 'done' },
    });
  });

  it('bare arguments with several tools: the tool whose schema they fit', () => {
    expect(parseTextCall('{"reason": "enough"}', tools)).toMatchObject({ ok: true, tool: 'finish_stage' });
  });

  it("OpenAI's function wrapper and string arguments", () => {
    const text = JSON.stringify({ function: { name: 'finish_stage', arguments: '{"reason":"x"}' } });
    expect(parseTextCall(text, tools)).toEqual({ ok: true, tool: 'finish_stage', value: { reason: 'x' } });
  });

  it('near-JSON: trailing commas, single quotes, raw newlines in strings, an unclosed object', () => {
    expect(parseTextCall(nearJson({ name: 'finish_stage', arguments: { reason: 'a b' } }), tools)).toMatchObject({
      ok: true,
      value: { reason: 'a b' },
    });
    expect(
      parseTextCall('```json\n{"name": "finish_stage", "arguments": {"reason": "line 1\nline 2"}}\n```', tools),
    ).toMatchObject({ ok: true, value: { reason: 'line 1\nline 2' } });
    expect(parseTextCall('<tool_call>{"name": "finish_stage", "arguments": {"reason": "cut"', tools)).toMatchObject({
      ok: true,
      value: { reason: 'cut' },
    });
  });

  it('says exactly what is wrong: no JSON, an unknown tool, arguments that do not validate', () => {
    // Braces in prose are not a call (so auto does not leave native tools for a model that merely chatted).
    expect(parseTextCall('I would try {"lr": 0.1} next, then compare.', [finish])).toMatchObject({
      ok: false,
      found: false,
    });
    expect(parseTextCall('I think we should draft first.', tools)).toEqual({
      ok: false,
      error: 'the reply holds no JSON object (no tool call in its text)',
      found: false,
    });
    expect(parseTextCall('```json\n{"name": "delete_all", "arguments": {}}\n```', [draft, finish])).toMatchObject({
      ok: false,
      error: expect.stringContaining('names no known tool'),
      found: true,
    });
    const invalid = parseTextCall('```json\n{"name": "draft", "arguments": {"plan": ""}}\n```', tools);
    expect(invalid).toMatchObject({ ok: false, found: true });
    expect(!invalid.ok && invalid.error).toMatch(/do not match its schema[\s\S]*plan[\s\S]*code/);
  });
});

describe('textModeInstructions', () => {
  it('describes every tool with its schema, and takes `code` out of the JSON into a python block', () => {
    const text = textModeInstructions(tools);
    expect(text).toContain('### Tool: `draft`');
    expect(text).toContain('### Tool: `finish_stage`');
    expect(text).toContain('```python');
    const schemaLine = text.split('\n').find((l) => l.startsWith('Arguments') && l.includes('plan'))!;
    expect(schemaLine).not.toContain('"code"');
  });
});
