import { z } from 'zod';
import { jsonSetting } from './json-setting.js';
import { type AnyModelRole, MODEL_ROLES, type ModelRole } from './model-roles.js';

export * from './model-roles.js';

/**
 * Models: which model serves which step of a run (roles), where each model is served (endpoints), and what it
 * costs (prices). The API resolves a run's models when it is created; the worker routes each model call by role.
 */

export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,99}$/;
export const ModelName = z.string().regex(MODEL_NAME_PATTERN, 'model names are letters, digits and . _ : / @ -');

/** A run's models, one per role (resolved: every role named), and the vision model or null for none. */
export const RunModels = z.object({
  code: z.string(),
  judge: z.string(),
  writeup: z.string(),
  review: z.string(),
  ideas: z.string(),
  vision: z.string().nullable().describe('The model that critiques figures as images; null: figures are not seen.'),
});
export type RunModels = z.infer<typeof RunModels>;

/** A request's models per role; each left out falls back to the run's `model` (then the server's defaults). */
export const RunModelsRequest = z
  .object({
    code: ModelName.optional().describe('Writes and fixes the experiment programs (draft, debug, improve, tuning).'),
    judge: ModelName.optional().describe('Reviews each execution and breaks ties.'),
    writeup: ModelName.optional().describe('Writes the figure code, the paper and its revision.'),
    review: ModelName.optional().describe('Reviews the paper and writes the meta-review.'),
    ideas: ModelName.optional().describe('Proposes and refines the research ideas.'),
    vision: ModelName.nullable()
      .optional()
      .describe(
        'A model that sees images: critiques each figure for one revision. Left out: the server setting AUTOLAB_MODEL_VISION; null: none.',
      ),
  })
  .strict();
export type RunModelsRequest = z.infer<typeof RunModelsRequest>;

/** The server's defaults per role (AUTOLAB_MODEL_<ROLE>), for roles a request leaves out. */
export type RoleDefaults = Partial<Record<AnyModelRole, string>>;

/**
 * A run's models: the request's per-role choice, else the run's own `model` when the request named one (the user's
 * explicit choice beats the deployment's routing), else the server's default for the role, else the server's model.
 * Vision is never inferred from `model` (not every model sees images).
 */
export function resolveRunModels(
  requested: RunModelsRequest | undefined,
  model: string | undefined,
  defaults: { model: string; roles: RoleDefaults },
): RunModels {
  const pick = (role: ModelRole): string => requested?.[role] ?? model ?? defaults.roles[role] ?? defaults.model;
  return {
    code: pick('code'),
    judge: pick('judge'),
    writeup: pick('writeup'),
    review: pick('review'),
    ideas: pick('ideas'),
    vision: requested?.vision === undefined ? (defaults.roles.vision ?? null) : requested.vision,
  };
}

/** The distinct models a run uses. */
export const modelsOf = (models: RunModels): string[] => [
  ...new Set([...MODEL_ROLES.map((role) => models[role]), ...(models.vision ? [models.vision] : [])]),
];

// ---------------------------------------------------------------- modes

/**
 * How a tool call is asked of the model. `tools`: native tool calls with a forced tool choice. `json`: the OpenAI
 * `response_format` with the tool's JSON schema. `text`: the schema described in the prompt and the call parsed from
 * the reply's text (programs in fenced ```python blocks). `auto` starts with `tools` and falls back to `text` when
 * the server refuses tools or the model writes its call as text.
 */
export const MODEL_MODES = ['tools', 'json', 'text'] as const;
export type ModelMode = (typeof MODEL_MODES)[number];
export const MODEL_MODE_SETTINGS = ['auto', ...MODEL_MODES] as const;
export type ModelModeSetting = (typeof MODEL_MODE_SETTINGS)[number];

// ---------------------------------------------------------------- endpoints

/**
 * Where a model is served, when not at the worker's default endpoint (OPENAI_BASE_URL): AUTOLAB_MODEL_ENDPOINTS maps
 * model names to these. `headers` and `query` are sent with every request (Azure's `api-key` header and
 * `api-version` query, a gateway's routing header); `apiKey` left out uses OPENAI_API_KEY; `mode` overrides
 * AUTOLAB_MODEL_MODE for this model.
 */
export const ModelEndpoint = z
  .object({
    baseUrl: z.url({ protocol: /^https?$/ }),
    apiKey: z.string().min(1).optional(),
    mode: z.enum(MODEL_MODE_SETTINGS).optional(),
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/), z.string()).optional(),
    query: z.record(z.string(), z.string()).optional(),
  })
  .strict();
export type ModelEndpoint = z.infer<typeof ModelEndpoint>;
export const ModelEndpoints = z.record(ModelName, ModelEndpoint);
export type ModelEndpoints = z.infer<typeof ModelEndpoints>;

// ---------------------------------------------------------------- prices

/**
 * USD per million tokens. `cachedInputPerMTok`: prompt tokens the provider served from its prefix cache (reported as
 * `prompt_tokens_details.cached_tokens`); left out, they cost `inputPerMTok` like any other prompt token.
 */
export const ModelPrice = z.object({
  inputPerMTok: z.number().min(0),
  outputPerMTok: z.number().min(0),
  cachedInputPerMTok: z.number().min(0).optional(),
});
export type ModelPrice = z.infer<typeof ModelPrice>;
export const PriceTable = z.record(z.string(), ModelPrice);
export type PriceTable = z.infer<typeof PriceTable>;

/**
 * List prices of common OpenAI models (USD per million tokens; cached input as OpenAI bills prefix-cache hits) when
 * this table was written. They change: set AUTOLAB_MODEL_PRICES to override or add models (local models, other
 * providers).
 */
export const DEFAULT_PRICES: PriceTable = {
  'gpt-4o-mini': { inputPerMTok: 0.15, cachedInputPerMTok: 0.075, outputPerMTok: 0.6 },
  'gpt-4o': { inputPerMTok: 2.5, cachedInputPerMTok: 1.25, outputPerMTok: 10 },
  'gpt-4.1-nano': { inputPerMTok: 0.1, cachedInputPerMTok: 0.025, outputPerMTok: 0.4 },
  'gpt-4.1-mini': { inputPerMTok: 0.4, cachedInputPerMTok: 0.1, outputPerMTok: 1.6 },
  'gpt-4.1': { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 },
  'o4-mini': { inputPerMTok: 1.1, cachedInputPerMTok: 0.275, outputPerMTok: 4.4 },
  'o3-mini': { inputPerMTok: 1.1, cachedInputPerMTok: 0.55, outputPerMTok: 4.4 },
  o3: { inputPerMTok: 2, cachedInputPerMTok: 0.5, outputPerMTok: 8 },
  'gpt-5-nano': { inputPerMTok: 0.05, cachedInputPerMTok: 0.005, outputPerMTok: 0.4 },
  'gpt-5-mini': { inputPerMTok: 0.25, cachedInputPerMTok: 0.025, outputPerMTok: 2 },
  'gpt-5': { inputPerMTok: 1.25, cachedInputPerMTok: 0.125, outputPerMTok: 10 },
};

/** The price of a model: exact name first, else the longest known prefix (`gpt-4o-2024-08-06` → `gpt-4o`). */
export function priceOf(prices: PriceTable, model: string): ModelPrice | null {
  if (prices[model]) return prices[model];
  const prefix = Object.keys(prices)
    .filter((name) => model.startsWith(name))
    .sort((a, b) => b.length - a.length)[0];
  return prefix ? prices[prefix]! : null;
}

/** What one call costs; `cachedTokens` (part of `promptTokens`) at the cached rate. 0 for an unpriced model. */
export function costOf(
  price: ModelPrice | null,
  promptTokens: number,
  completionTokens: number,
  cachedTokens = 0,
): number {
  if (!price) return 0;
  const cached = Math.min(cachedTokens, promptTokens);
  const cachedRate = price.cachedInputPerMTok ?? price.inputPerMTok;
  return (
    ((promptTokens - cached) * price.inputPerMTok + cached * cachedRate + completionTokens * price.outputPerMTok) / 1e6
  );
}

// ---------------------------------------------------------------- settings

/** AUTOLAB_MODEL_PRICES: more prices (or other ones), over the built-in table. */
export const PricesSetting = jsonSetting(
  PriceTable,
  {},
  '{"model": {"inputPerMTok": 0.15, "outputPerMTok": 0.6}}',
).transform((prices): PriceTable => ({ ...DEFAULT_PRICES, ...prices }));

/** AUTOLAB_MODEL_ENDPOINTS: models served elsewhere than the default endpoint. */
export const ModelEndpointsSetting = jsonSetting(
  ModelEndpoints,
  {},
  '{"llama3.1:8b": {"baseUrl": "http://localhost:11434/v1", "mode": "auto"}}',
);
