import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_ERRORS } from './errors.js';

describe('the error catalog', () => {
  it('is documented: docs/api.md has a row for every code, with its status', async () => {
    const doc = await readFile(new URL('../../../docs/api.md', import.meta.url), 'utf8');
    const rows = new Map(
      [...doc.matchAll(/^\| `([a-z_]+)`\s*\| (\d{3}|4xx)\s*\|/gm)].map((m) => [m[1], m[2]] as const),
    );
    for (const [code, { status }] of Object.entries(API_ERRORS)) {
      expect(rows.has(code), `docs/api.md has no row for ${code}`).toBe(true);
      expect([String(status), '4xx'], code).toContain(rows.get(code));
    }
  });
});
