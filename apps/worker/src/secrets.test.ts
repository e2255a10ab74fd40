import { describe, expect, it } from 'vitest';
import { redactText, redactValue } from './secrets.js';

const KEY = 'sk-secret-0123456789';

describe('redactValue', () => {
  it('redacts every secret in every string of an event, keys included, and leaves the rest as it was', () => {
    const event = {
      type: 'warning',
      message: `endpoint said: Bearer ${KEY}`,
      data: { code: 'x', detail: `${KEY} and ${KEY}`, list: [KEY, 3, null, true], [KEY]: 1 },
    };
    expect(redactValue(event, [KEY, ''])).toEqual({
      type: 'warning',
      message: 'endpoint said: Bearer [redacted]',
      data: { code: 'x', detail: '[redacted] and [redacted]', list: ['[redacted]', 3, null, true], '[redacted]': 1 },
    });
  });

  it('does not redact short values, which would match ordinary text', () => {
    expect(redactText('a warning about abc', ['abc', ''])).toBe('a warning about abc');
  });
});
