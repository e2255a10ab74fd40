import { describe, expect, it } from 'vitest';
import { countPromptTokens, countReplyTokens, encodingFor } from './token-count.js';

describe('token counts for servers that report no usage', () => {
  it('counts as OpenAI counts a chat request: 3 tokens of framing per message, 3 to prime the reply', async () => {
    // "hello" is one token in both encodings, "user" one: 3 + (3 + 1 + 1).
    expect(await countPromptTokens('gpt-4o', [{ role: 'user', content: 'hello' }])).toBe(8);
    expect(await countPromptTokens('llama3.1', [{ role: 'user', content: 'hello' }])).toBe(8);
    expect(encodingFor('openai/gpt-4o-mini')).toBe('o200k_base');
    expect(encodingFor('qwen2.5-coder')).toBe('cl100k_base');
  });

  it('counts a text that spells a special token as text instead of failing the call', async () => {
    const text = 'The model printed <|endoftext|> and stopped.';
    const count = await countPromptTokens('gpt-4o-mini', [{ role: 'user', content: text }]);
    expect(count).toBeGreaterThan(10);
    expect(await countReplyTokens('llama3.1', text)).toBeGreaterThan(8);
  });
});
