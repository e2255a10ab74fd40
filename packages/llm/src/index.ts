export { ChatLlm, type ChatLlmOptions, classify, parseToolCall, type TranscriptEntry } from './chat-llm.js';
export { costOf, DEFAULT_PRICES, ModelPrice, PriceTable, priceOf } from './model-prices.js';
