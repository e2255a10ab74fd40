export { ChatLlm, type ChatLlmOptions, parseToolCall, type TranscriptEntry } from './chat-llm.js';
export { type Classification, classify } from './model-errors.js';
export {
  MODEL_MODE_SETTINGS,
  MODEL_MODES,
  type ModeCache,
  type ModelMode,
  type ModelModeSetting,
  modeCacheKey,
  toolsUnsupported,
} from './model-mode.js';
export { costOf, DEFAULT_PRICES, ModelPrice, PriceTable, priceOf } from './model-prices.js';
export { checkedFetch, MalformedReplyError } from './reply-check.js';
export { parseTextCall, type TextCall, textModeInstructions } from './text-call.js';
