import { readFile } from 'node:fs/promises';
import { RUN_FAILURES } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { RUN_FAILURE_DOC, withRunFailureTable } from '../scripts/generate-run-failure-table.js';

describe('run failure codes', () => {
  it('docs/api.md lists exactly the catalog (run `npm run generate` after changing it)', async () => {
    const doc = await readFile(RUN_FAILURE_DOC, 'utf8');
    expect(doc).toBe(withRunFailureTable(doc));
    for (const code of Object.keys(RUN_FAILURES)) expect(doc).toContain(`| \`${code}\``);
  });

  it('are lower-case identifiers with a meaning', () => {
    for (const [code, meaning] of Object.entries(RUN_FAILURES)) {
      expect(code).toMatch(/^[a-z][a-z_]*[a-z]$/);
      expect(meaning.length).toBeGreaterThan(10);
    }
  });
});
