export { ChatLlm, type ChatLlmOptions, parseToolCall, type TranscriptEntry, type TranscriptImage } from './chat-llm.js';
export { Embedder, type EmbedderOptions } from './embeddings.js';
export { type Classification, classify } from './model-errors.js';
export { type ModeCache, modeCacheKey, toolsUnsupported } from './model-mode.js';
export { ModelRouter } from './model-router.js';
export { checkedFetch, MalformedReplyError } from './reply-check.js';
export { parseTextCall, type TextCall, textModeInstructions } from './text-call.js';
