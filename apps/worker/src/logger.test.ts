import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const KEY = 'sk-logger-key-0123456789';
const QUOTED = 'sk-with-"quote"-and-\\backslash';

describe('createLogger', () => {
  it("cuts the worker's credentials out of every line, wherever a value quotes them", () => {
    const lines: string[] = [];
    const log = createLogger('info', 'worker', [KEY, QUOTED, ''], { write: (line: string) => void lines.push(line) });
    log.warn({ err: `500 upstream failed for Bearer ${KEY}`, nested: { detail: [QUOTED] } }, `retrying after ${KEY}`);
    log.info({ apiKey: 'sk-by-field-name' }, 'config');
    expect(lines).toHaveLength(2);
    const text = lines.join('');
    expect(text).not.toContain(KEY);
    expect(text).not.toContain('quote');
    expect(text).not.toContain('sk-by-field-name');
    const first = JSON.parse(lines[0]!) as { err: string; msg: string; nested: { detail: string[] } };
    expect(first).toMatchObject({
      err: '500 upstream failed for Bearer [redacted]',
      msg: 'retrying after [redacted]',
      nested: { detail: ['[redacted]'] },
    });
  });
});
