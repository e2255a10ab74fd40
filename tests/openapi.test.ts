import { readFile } from 'node:fs/promises';
import { openApiDocument } from '@autolab/api';
import { RunEvent } from '@autolab/contracts';
import { compileErrors, validate } from '@readme/openapi-parser';
import { describe, expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from '../scripts/generate-api-client.js';
import { EVENT_SCHEMA_FILE, generateEventSchema } from '../scripts/generate-event-schema.js';

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

describe('docs/events.schema.json', () => {
  it('is current (run `npm run generate` after changing an event)', async () => {
    expect(await readFile(EVENT_SCHEMA_FILE, 'utf8')).toBe(generateEventSchema());
  });

  it('describes every event type of the union', async () => {
    const schema = JSON.parse(await readFile(EVENT_SCHEMA_FILE, 'utf8')) as {
      oneOf: { properties: { type: { const: string } } }[];
    };
    const types = schema.oneOf.map((e) => e.properties.type.const);
    expect(types).toEqual(RunEvent.options.map((o) => o.shape.type.value));
    expect(types).toContain('hint.received');
  });
});
