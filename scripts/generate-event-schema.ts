/**
 * Writes docs/events.schema.json: the run event union (packages/contracts/src/events.ts) as JSON Schema, for
 * clients in other languages. Run by `npm run generate`; a test fails when the committed file is stale.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { RunEvent } from '@autolab/contracts';
import { z } from 'zod';
import { formatWithBiome } from './biome-format.js';

export const EVENT_SCHEMA_FILE = fileURLToPath(new URL('../docs/events.schema.json', import.meta.url));

export function generateEventSchema(): string {
  const { $schema, ...schema } = z.toJSONSchema(RunEvent, { target: 'draft-2020-12' });
  const document = {
    $schema,
    title: 'Autolab run event',
    description:
      'One event of a run, as served by GET /v1/runs/{id}/events (SSE `data:` lines and JSON pages). ' +
      'Generated from packages/contracts/src/events.ts by `npm run generate`; do not edit.',
    ...schema,
  };
  return formatWithBiome(`${JSON.stringify(document, null, 2)}\n`, EVENT_SCHEMA_FILE);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await writeFile(EVENT_SCHEMA_FILE, generateEventSchema());
  console.log(`wrote ${EVENT_SCHEMA_FILE}`);
}
