import { readFile } from 'node:fs/promises';
import { openApiDocument } from '@autolab/api';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from '../scripts/generate-api-client.js';

describe('the OpenAPI document', () => {
  it('is valid OpenAPI according to an independent validator', async () => {
    const document = await openApiDocument();
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('matches the committed typed client (run `npm run generate` after changing a route)', async () => {
    const committed = await readFile(SCHEMA_FILE, 'utf8');
    expect(committed).toBe(await generateApiTypes());
  });
});
