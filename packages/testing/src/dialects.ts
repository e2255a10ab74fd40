/**
 * How a model server and its model write tool calls. The scripted server speaks one per request, chosen by a suffix
 * of the model name (`demo@fenced`): the scenario's scripted calls are then sent the way such a model sends them, so
 * the client's modes (tools, json, text) and its parser meet each form offline.
 */
export const DIALECTS = [
  /** Native tool calls (what OpenAI does); the default. */
  'tools',
  /** The call as raw JSON (`{"name", "arguments"}`) in the message content, also when tools were offered. */
  'content-json',
  /** Fenced ```json with prose before and after. */
  'fenced',
  /** `<tool_call>{…}</tool_call>` (Hermes, Qwen). */
  'tool-tags',
  /** `400 … does not support tools` whenever `tools` is sent (Ollama); text requests get the code-fenced form. */
  'no-tools',
  /** A server that honours `response_format` with a JSON schema: the content is the JSON it asks for. */
  'json-schema',
  /** Fenced JSON without the `code` field, and the program in a fenced ```python block beside it. */
  'code-fenced',
  /** Fenced near-JSON: single quotes and trailing commas. */
  'near-json',
  /**
   * A server whose default completion limit is too short: a reply is cut off (`finish_reason: "length"`) unless the
   * request's `max_tokens` fits it; then it is sent whole.
   */
  'truncated',
  /** Native tool calls, but no `usage` in the reply (several local servers). */
  'no-usage',
] as const;
export type Dialect = (typeof DIALECTS)[number];

export const isDialect = (name: string): name is Dialect => (DIALECTS as readonly string[]).includes(name);

/** Dialects whose model answers a request that offers tools with the call in its text instead. */
const TEXT_EVEN_WITH_TOOLS: readonly Dialect[] = ['content-json', 'fenced', 'tool-tags', 'code-fenced', 'near-json'];

export const answersToolsInText = (dialect: Dialect): boolean => TEXT_EVEN_WITH_TOOLS.includes(dialect);

/**
 * The call written as text in the dialect's form. `args` is the exact argument string of the scenario (not always
 * valid JSON: scenarios script malformed calls too). Dialects without a text form of their own answer text
 * requests the way the client's text-mode prompt asks: fenced JSON, with the program in a ```python block.
 */
export function callAsText(dialect: Dialect, name: string, args: string): string {
  const parsed = tryParse(args);
  const envelope = (value: unknown) => JSON.stringify({ name, arguments: value }, null, 2);
  if (parsed === undefined) {
    // Malformed arguments stay malformed in every form.
    return `\`\`\`json\n{"name": ${JSON.stringify(name)}, "arguments": ${args}}\n\`\`\``;
  }
  switch (dialect) {
    case 'content-json':
      return JSON.stringify({ name, arguments: parsed });
    case 'fenced':
      return `I will call \`${name}\` now.\n\n\`\`\`json\n${envelope(parsed)}\n\`\`\`\n\nLet me know if anything else is needed.`;
    case 'tool-tags':
      return `<tool_call>\n${JSON.stringify({ name, arguments: parsed })}\n</tool_call>`;
    case 'near-json':
      return `Here is the call:\n\`\`\`json\n${nearJson({ name, arguments: parsed })}\n\`\`\``;
    default: {
      const code = isObject(parsed) && typeof parsed.code === 'string' ? parsed.code : null;
      if (code === null) return `\`\`\`json\n${envelope(parsed)}\n\`\`\``;
      const { code: _code, ...rest } = parsed as Record<string, unknown>;
      return `My call of \`${name}\`:\n\n\`\`\`json\n${envelope(rest)}\n\`\`\`\n\n\`\`\`python\n${code}\n\`\`\`\n`;
    }
  }
}

/** JSON as careless models write it: single-quoted keys and strings, a trailing comma after every last member. */
export function nearJson(value: unknown, indent = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => `${inner}${nearJson(v, inner)},`).join('\n')}\n${indent}]`;
  }
  if (isObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${quote(k)}: ${nearJson(v, inner)},`).join('\n')}\n${indent}}`;
  }
  if (typeof value === 'string') return quote(value);
  return JSON.stringify(value);
}

/** Single quotes where the text has none (escaped as JSON otherwise), double quotes where it does. */
function quote(text: string): string {
  const json = JSON.stringify(text);
  return text.includes("'") ? json : `'${json.slice(1, -1).replace(/\\"/g, '"')}'`;
}

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
