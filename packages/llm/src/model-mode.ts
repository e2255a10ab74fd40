import type { ModelMode } from '@autolab/contracts';

/**
 * Where `auto` remembers the mode that works for an endpoint and model, so later runs of the deployment start with
 * it (the worker keeps it in Redis). Failures to read or write it must not fail a call: it is only a shortcut.
 */
export interface ModeCache {
  get(key: string): Promise<ModelMode | null>;
  set(key: string, mode: ModelMode): Promise<void>;
}

/** The cache key of an endpoint and model. */
export const modeCacheKey = (baseUrl: string | undefined, model: string): string =>
  `${(baseUrl ?? 'https://api.openai.com/v1').replace(/\/+$/, '')} ${model}`;

/**
 * Error texts of servers that cannot do native tool calls for this model, as they word it: Ollama (`400 <model>
 * does not support tools`), vLLM without `--enable-auto-tool-choice`/`--tool-call-parser` (400), llama.cpp's server
 * without `--jinja` (500 `tools param requires --jinja flag`), OpenRouter for a model none of whose providers takes
 * tools (404 `No endpoints found that support tool use`), and the generic wordings of other gateways.
 */
const TOOLS_UNSUPPORTED = [
  /does not support tools/i,
  /does not support (?:tool|function) call/i,
  /tool choice requires --enable-auto-tool-choice/i,
  /requires --tool-call-parser/i,
  /tools param requires --jinja/i,
  /no endpoints found that support (?:tool use|the provided 'tool_choice')/i,
  /(?:tools?|tool_choice|function calling) (?:is |are )?not supported/i,
];

/** Whether an error of a native tool request says that this endpoint or model cannot do tool calls. */
export function toolsUnsupported(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const status = (e as { status?: unknown }).status;
    const message = String((e as { message?: unknown }).message ?? '');
    if ((status === undefined || [400, 404, 422, 500].includes(status as number)) && matches(message)) return true;
    const body = (e as { error?: unknown }).error;
    if (body && matches(JSON.stringify(body))) return true;
  }
  return false;
}

const matches = (text: string): boolean => TOOLS_UNSUPPORTED.some((pattern) => pattern.test(text));
