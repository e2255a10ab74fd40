import type { ToolSpec } from '@autolab/engine';
import { jsonrepair } from 'jsonrepair';
import { z } from 'zod';

/**
 * Tool calls written in text, for models that cannot make native ones (`text` mode) and for models that answer a
 * native request with the call in their message. The prompt asks for one JSON object in a fenced block, with every
 * field named `code` left out of the JSON and written as a fenced ```python block instead: weak models break JSON
 * when a whole program sits inside a JSON string, and they write fenced code well.
 */

/** Fields that carry a whole program: they travel in a ```python block beside the JSON, not inside it. */
const CODE_FIELD = 'code';

export type TextCall =
  | { ok: true; tool: string; value: unknown }
  /** `found`: the text holds a call (tags, a fenced JSON block, or JSON naming a tool) that is not usable as it is. */
  | { ok: false; error: string; found: boolean };

/** The part of the system prompt that describes the tools and the answer format (static: it caches well). */
export function textModeInstructions(tools: ToolSpec[]): string {
  const described = tools.map((tool) => {
    const schema = jsonSchemaOf(tool);
    const hasCode = codeFieldOf(schema);
    const properties = (schema.properties ?? {}) as Record<string, unknown>;
    if (hasCode) {
      // Described as what it is, but not as a JSON field: the program goes into the python block.
      delete properties[CODE_FIELD];
      schema.required = ((schema.required as string[] | undefined) ?? []).filter((f) => f !== CODE_FIELD);
    }
    return [
      `### Tool: \`${tool.name}\``,
      tool.description,
      `Arguments (JSON schema): ${JSON.stringify(schema)}`,
      hasCode
        ? `The \`${CODE_FIELD}\` argument (the complete program) goes in a \`\`\`python block, not in the JSON.`
        : '',
    ]
      .filter(Boolean)
      .join('\n');
  });
  const names = tools.map((t) => `"${t.name}"`).join(' or ');
  return [
    '## How to answer',
    `Answer with exactly one call of ${tools.length === 1 ? 'this tool' : 'one of these tools'}, written as text:`,
    '',
    described.join('\n\n'),
    '',
    `Write the call as one JSON object in a \`\`\`json fenced block: {"name": ${names}, "arguments": {…}}.`,
    `Leave the field \`${CODE_FIELD}\` out of the JSON: write the whole program in a \`\`\`python fenced block ` +
      'right after the JSON block. Use standard JSON (double quotes, no comments, no trailing commas).',
  ].join('\n');
}

/** The call written in `text`, validated against the tools' zod schemas, or the exact reason it is not usable. */
export function parseTextCall(text: string, tools: ToolSpec[]): TextCall {
  const candidates = jsonCandidates(text);
  if (candidates.length === 0) {
    return { ok: false, error: 'the reply holds no JSON object (no tool call in its text)', found: false };
  }
  const python = pythonBlockOf(text);
  let firstError: string | null = null;
  let found = candidates.some((c) => c.marked);
  for (const { json: candidate } of candidates) {
    const json = parseLenient(candidate);
    if (json === undefined) {
      firstError ??= 'the JSON of the reply is not valid and could not be repaired';
      continue;
    }
    const call = asCall(json, tools);
    if (!call) {
      firstError ??= `the JSON of the reply names no known tool (expected ${tools.map((t) => t.name).join(' or ')})`;
      continue;
    }
    // Bare braces in prose (`use {x}`) are no call; a JSON object that names a tool is one.
    if (call.named) found = true;
    const spec = tools.find((t) => t.name === call.tool)!;
    const args = withCode(call.arguments, spec, python);
    const parsed = spec.schema.safeParse(args);
    if (parsed.success) return { ok: true, tool: spec.name, value: parsed.data };
    firstError ??= `the arguments of "${spec.name}" do not match its schema: ${z.prettifyError(parsed.error)}`;
  }
  return { ok: false, error: firstError ?? 'the reply holds no usable tool call', found };
}

/**
 * Places where the JSON of a call may be, most explicit first: `<tool_call>` tags (Hermes, Qwen), fenced blocks
 * (```json, or any fence that opens with `{`), then the outermost `{…}` of the text.
 */
function jsonCandidates(text: string): { json: string; marked: boolean }[] {
  const out: { json: string; marked: boolean }[] = [];
  for (const m of text.matchAll(/<tool_call>\s*([\s\S]*?)\s*(?:<\/tool_call>|$)/g))
    out.push({ json: m[1]!, marked: true });
  for (const m of text.matchAll(/```([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)```/g)) {
    const lang = m[1]!.toLowerCase();
    const body = m[2]!.trim();
    if (lang === 'json' || lang === 'json5' || (lang === '' && body.startsWith('{')))
      out.push({ json: body, marked: true });
  }
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start >= 0 && end > start) out.push({ json: text.slice(start, end + 1), marked: false });
  return out;
}

function parseLenient(candidate: string): unknown {
  try {
    return JSON.parse(candidate);
  } catch {
    try {
      // Trailing commas, single quotes, raw newlines in strings, comments, missing closing brackets.
      return JSON.parse(jsonrepair(candidate));
    } catch {
      return undefined;
    }
  }
}

/** `{name, arguments}` (also `tool`/`parameters`, OpenAI's `function` wrapper), or the bare arguments of one tool. */
function asCall(json: unknown, tools: ToolSpec[]): { tool: string; arguments: unknown; named: boolean } | null {
  if (!isObject(json)) return null;
  const inner = isObject(json.function) ? json.function : json;
  const name = typeof inner.name === 'string' ? inner.name : typeof inner.tool === 'string' ? inner.tool : null;
  const args = inner.arguments ?? inner.parameters ?? inner.args;
  if (name !== null && tools.some((t) => t.name === name) && args !== undefined) {
    return { tool: name, arguments: typeof args === 'string' ? (parseLenient(args) ?? args) : args, named: true };
  }
  // Bare arguments: the one tool, or the first whose schema they fit.
  if (tools.length === 1) return { tool: tools[0]!.name, arguments: json, named: false };
  const fits = tools.find((t) => t.schema.safeParse(json).success);
  return fits ? { tool: fits.name, arguments: json, named: false } : null;
}

/** The arguments with the program from the python block, where the tool has a `code` field the JSON left out. */
function withCode(args: unknown, spec: ToolSpec, python: string | null): unknown {
  if (!isObject(args) || python === null || !codeFieldOf(jsonSchemaOf(spec))) return args;
  const current = args[CODE_FIELD];
  if (typeof current === 'string' && current.trim() !== '') return args;
  return { ...args, [CODE_FIELD]: python };
}

/** The first ```python (or ```py) block; else the first fenced block that is not JSON. */
function pythonBlockOf(text: string): string | null {
  let other: string | null = null;
  for (const m of text.matchAll(/```([A-Za-z0-9_-]*)[^\n]*\n([\s\S]*?)```/g)) {
    const lang = m[1]!.toLowerCase();
    if (lang === 'python' || lang === 'py' || lang === 'python3') return m[2]!.replace(/\n$/, '');
    if (other === null && lang !== 'json' && lang !== 'json5' && !m[2]!.trim().startsWith('{')) other = m[2]!;
  }
  return other?.replace(/\n$/, '') ?? null;
}

export function jsonSchemaOf(tool: ToolSpec): Record<string, unknown> {
  const schema = z.toJSONSchema(tool.schema, { target: 'draft-7', io: 'input' }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}

function codeFieldOf(schema: Record<string, unknown>): boolean {
  const properties = schema.properties;
  return isObject(properties) && isObject(properties[CODE_FIELD]);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
