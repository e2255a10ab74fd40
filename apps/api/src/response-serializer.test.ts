import { ErrorBody, EventPage, RunList, RunRecord } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { olderNodeFinished, sampleRun } from '../../cli/src/testing/samples.js';
import { compiledSerializer } from './response-serializer.js';

/** The compiled serializer writes what zod's parse-then-stringify wrote: the same fields, values and nulls. */
const serialize = (schema: z.ZodType, data: unknown) =>
  compiledSerializer({ schema, method: 'GET', url: '/', httpPart: 'body' } as never)(data);
const viaZod = (schema: z.ZodType, data: unknown) => JSON.stringify(schema.parse(data));

describe('compiledSerializer', () => {
  const finished = sampleRun({
    status: 'succeeded',
    bestMetric: { name: 'ece', value: 0.031, direction: 'minimize', nodeId: 'n002', iteration: 2 },
    error: null,
    budgetUsd: null,
    models: { code: 'a', judge: 'b', writeup: 'a', review: 'b', ideas: 'a', vision: 'c' },
  });

  it.each([
    ['a running run', sampleRun()],
    ['a finished run with nulls and a vision model', finished],
    ['a failed run', sampleRun({ status: 'failed', error: { code: 'llm_unavailable', message: 'down "quoted" \n' } })],
  ])('writes %s as zod did', (_, run) => {
    expect(JSON.parse(serialize(RunRecord, run))).toEqual(JSON.parse(viaZod(RunRecord, run)));
  });

  it('leaves out fields the schema does not name (nothing internal leaks), as zod stripped them', () => {
    const withInternals = { ...sampleRun(), jobId: 'secret-internal', checkpoint: { big: true } };
    const written = JSON.parse(serialize(RunRecord, withInternals));
    expect(written).not.toHaveProperty('jobId');
    expect(written).not.toHaveProperty('checkpoint');
    expect(written).toEqual(JSON.parse(viaZod(RunRecord, withInternals)));
  });

  it('writes lists and errors as zod did', () => {
    const list = { runs: [sampleRun(), finished], nextCursor: null };
    expect(JSON.parse(serialize(RunList, list))).toEqual(JSON.parse(viaZod(RunList, list)));
    const error = { error: { code: 'run_not_found', message: 'There is no run with id "x".', details: { a: [1] } } };
    expect(JSON.parse(serialize(ErrorBody, error))).toEqual(JSON.parse(viaZod(ErrorBody, error)));
  });

  it('writes an event recorded before a field with a default existed, with the default, as zod did', () => {
    const old = olderNodeFinished();
    const page = { events: [old], next: null, finished: true };
    const written = JSON.parse(serialize(EventPage, page));
    expect(written.events[0].data).toMatchObject({ analysis: null, skippedOutputs: null });
    expect(written).toEqual(JSON.parse(viaZod(EventPage, page)));
  });
});
