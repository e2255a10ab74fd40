export { ChatLlm, type ChatLlmOptions, parseToolCall, type TranscriptEntry } from './chat-llm.js';
export { type Classification, classify } from './model-errors.js';
export { costOf, DEFAULT_PRICES, ModelPrice, PriceTable, priceOf } from './model-prices.js';
export { checkedFetch, MalformedReplyError } from './reply-check.js';
