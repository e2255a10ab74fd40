import { CreateRunRequest } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  checkForm,
  checkNumber,
  fromApiIssue,
  GOAL,
  NUMBER_FIELDS,
  type NumberField,
  summaryFor,
} from './form-checks.js';

const DEFAULTS = Object.fromEntries(Object.keys(NUMBER_FIELDS).map((k) => [k, ''])) as Record<
  keyof typeof NUMBER_FIELDS,
  string
>;

describe('the new-run form checks', () => {
  it('states the limits of CreateRunRequest', () => {
    const schema = z.toJSONSchema(CreateRunRequest, { io: 'input' }) as {
      properties: Record<string, { properties?: Record<string, unknown> } & Record<string, unknown>>;
    };
    for (const field of Object.values(NUMBER_FIELDS) as NumberField[]) {
      const [head, tail] = field.path.split('.') as [string, string | undefined];
      const prop = (tail ? schema.properties[head]!.properties![tail] : schema.properties[head]) as Record<
        string,
        unknown
      >;
      expect(prop.type, field.path).toBe(field.integer ? 'integer' : 'number');
      expect(prop.maximum, field.path).toBe(field.max);
      if (field.exclusiveMin) expect(prop.exclusiveMinimum, field.path).toBe(field.min);
      else expect(prop.minimum, field.path).toBe(field.min);
    }
    const goal = schema.properties.goal as unknown as { minLength: number; maxLength: number };
    expect([goal.minLength, goal.maxLength]).toEqual([GOAL.min, GOAL.max]);
  });

  it('says what a number field expects, in the words of the form', () => {
    expect(checkNumber(NUMBER_FIELDS.maxIterations, '500')).toBe('Enter a whole number from 1 to 200.');
    expect(checkNumber(NUMBER_FIELDS.maxIterations, '2.5')).toBe('Enter a whole number from 1 to 200.');
    expect(checkNumber(NUMBER_FIELDS.maxIterations, '')).toBeNull();
    expect(checkNumber(NUMBER_FIELDS.cpus, '0.1')).toBe('Enter a number from 0.25 to 16.');
    expect(checkNumber(NUMBER_FIELDS.budgetUsd, '0')).toBe('Enter a number above 0, at most 10,000.');
    expect(checkNumber(NUMBER_FIELDS.budgetUsd, '2.5')).toBeNull();
  });

  it('checks the goal and every number, naming the fields by their labels', () => {
    const issues = checkForm({ ...DEFAULTS, goal: 'too short', maxIterations: '500', cpus: 'x' });
    expect(issues).toEqual([
      { path: 'goal', label: 'Research goal', message: 'Enter at least 10 characters (this has 9).' },
      { path: 'maxIterations', label: 'Max iterations', message: 'Enter a whole number from 1 to 200.' },
      { path: 'sandbox.cpus', label: 'CPUs', message: 'Enter a number from 0.25 to 16.' },
    ]);
    expect(summaryFor(issues)).toBe('3 fields need a change:');
    expect(checkForm({ ...DEFAULTS, goal: 'A goal that is long enough' })).toEqual([]);
  });

  it("puts the API's issues in the same words", () => {
    expect(fromApiIssue({ path: 'maxIterations', message: 'Too big: expected number to be <=200' })).toEqual({
      path: 'maxIterations',
      label: 'Max iterations',
      message: 'Enter a whole number from 1 to 200.',
    });
    expect(fromApiIssue({ path: 'goal', message: 'the goal needs at least 10 characters' }).message).toBe(
      'Enter at least 10 characters.',
    );
    expect(fromApiIssue({ path: 'sandbox.image', message: 'there is no sandbox image "x" (known: python)' })).toEqual({
      path: 'sandbox.image',
      label: 'Image',
      message: 'There is no sandbox image "x" (known: python).',
    });
    expect(fromApiIssue({ path: 'inputs.data', message: 'not an allowed file name' }).label).toBe('Data');
  });
});

describe('the new-run form in evolve mode', () => {
  const values = { ...DEFAULTS, goal: '' };
  it('needs the program and the evaluator, not a goal, and checks only the fields it shows', () => {
    expect(checkForm(values, 'evolve', { program: false, evaluator: false })).toEqual([
      { path: 'inputs.code', label: 'Program', message: 'Add the program to evolve.' },
      { path: 'inputs.evaluator', label: 'Evaluator', message: 'Add the evaluator (evaluate.py).' },
    ]);
    expect(checkForm(values, 'evolve', { program: true, evaluator: true })).toEqual([]);
    // Research fields are hidden in evolve mode and evolve fields in research mode: neither is checked there.
    expect(checkForm({ ...values, maxIterations: '500', islands: '99' }, 'evolve')).toEqual([
      { path: 'evolve.islands', label: 'Islands', message: 'Enter a whole number from 1 to 16.' },
    ]);
    expect(checkForm({ ...values, goal: 'A goal that is long enough', islands: '99' }, 'research')).toEqual([]);
    // A goal given is checked like any goal.
    expect(checkForm({ ...values, goal: 'short' }, 'evolve')[0]).toMatchObject({ path: 'goal', label: 'Goal' });
  });

  it("names the API's issues by the evolve form's labels", () => {
    expect(fromApiIssue({ path: 'inputs.code', message: 'the upload has no program' }, 'evolve').label).toBe('Program');
    expect(fromApiIssue({ path: 'inputs.evaluator', message: 'no evaluate.py' }, 'evolve')).toEqual({
      path: 'inputs.evaluator',
      label: 'Evaluator',
      message: 'No evaluate.py.',
    });
    expect(fromApiIssue({ path: 'inputs.code', message: 'x' }).label).toBe('Starting code');
  });
});
