import { describe, expect, it } from 'vitest';
import { modeCacheKey, toolsUnsupported } from './model-mode.js';

const httpError = (status: number, message: string) => Object.assign(new Error(message), { status });

describe('toolsUnsupported', () => {
  it.each([
    [400, '400 registry.ollama.ai/library/gemma3:4b does not support tools'],
    [400, '"auto" tool choice requires --enable-auto-tool-choice and --tool-call-parser to be set'],
    [500, 'tools param requires --jinja flag'],
    [404, 'No endpoints found that support tool use. To learn more about provider routing, visit: …'],
  ])('%i %s', (status, message) => {
    expect(toolsUnsupported(httpError(status, message))).toBe(true);
    // Also when it is the cause of the error the client throws.
    expect(toolsUnsupported(new Error('model call failed', { cause: httpError(status, message) }))).toBe(true);
  });

  it('not for other errors, nor for an overload that merely mentions tools', () => {
    expect(toolsUnsupported(httpError(400, 'messages: field required'))).toBe(false);
    expect(toolsUnsupported(httpError(503, 'does not support tools right now, try later'))).toBe(false);
    expect(toolsUnsupported(httpError(429, 'rate limited'))).toBe(false);
  });
});

describe('modeCacheKey', () => {
  it('one key per endpoint and model; a trailing slash does not matter; OpenAI when no base URL', () => {
    expect(modeCacheKey('http://h:11434/v1/', 'm')).toBe(modeCacheKey('http://h:11434/v1', 'm'));
    expect(modeCacheKey(undefined, 'gpt-4o-mini')).toBe('https://api.openai.com/v1 gpt-4o-mini');
    expect(modeCacheKey('http://h/v1', 'a')).not.toBe(modeCacheKey('http://h/v1', 'b'));
  });
});
