import { readFile } from 'node:fs/promises';
import { openApiDocument } from '@autolab/api';
import { RunEvent } from '@autolab/contracts';
import { compileErrors, validate } from '@readme/openapi-parser';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { generateApiTypes, SCHEMA_FILE } from '../scripts/generate-api-client.js';
import { EVENT_SCHEMA_FILE, generateEventSchema } from '../scripts/generate-event-schema.js';

describe('the OpenAPI document', () => {
  it('is valid OpenAPI according to an independent validator', async () => {
    const document = await openApiDocument();
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('is clean under an independent linter (Redocly, recommended rules: no errors, no warnings)', async () => {
    const document = await openApiDocument();
    const problems = await lintFromString({
      source: JSON.stringify(document),
      absoluteRef: 'openapi.json',
      config: await createConfig({ extends: ['recommended'] }),
    });
    const listed = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} (${p.location[0]?.pointer ?? ''})`);
    expect(listed).toEqual([]);
  });

  it('gives every operation an operationId and lists the errors every route of its kind can give', async () => {
    const document = (await openApiDocument()) as {
      paths: Record<string, Record<string, { operationId?: string; responses: Record<string, unknown> }>>;
    };
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const what = `${method} ${path}`;
        expect(operation.operationId, what).toMatch(/^[a-z][A-Za-z]+$/);
        const statuses = Object.keys(operation.responses);
        expect(statuses, what).toEqual(expect.arrayContaining(['400', '500']));
        if (path.startsWith('/v1/'))
          expect(statuses, what).toEqual(expect.arrayContaining(['401', '403', '429', '503']));
        if (method === 'post') expect(statuses, what).toEqual(expect.arrayContaining(['408', '413', '415']));
        if (path.includes('{')) expect(statuses, what).toContain('414');
      }
    }
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

  it('has a row for every event type in the table of docs/api.md', async () => {
    const doc = await readFile(new URL('../docs/api.md', import.meta.url), 'utf8');
    const missing = RunEvent.options.map((o) => o.shape.type.value).filter((type) => !doc.includes(`| \`${type}\``));
    expect(missing).toEqual([]);
  });
});
