import fc from 'fast-check';

/**
 * fast-check arbitraries for the JSON Schema subset that the API's zod schemas produce (objects, strings with
 * patterns and lengths, numbers with bounds, enums, arrays, unions, `$ref`s into components). Used by the fuzzing
 * test to make requests that are mostly valid, so that they get past validation into the handlers, and then bent.
 */
export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  default?: unknown;
};

export function arbitraryFor(
  schema: JsonSchema | undefined,
  resolve: (ref: string) => JsonSchema,
  depth = 0,
): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.constant(null);
  if (schema.$ref) return arbitraryFor(resolve(schema.$ref), resolve, depth + 1);
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((s) => arbitraryFor(s, resolve, depth + 1)));
  if (schema.allOf?.length) return arbitraryFor(schema.allOf[0], resolve, depth + 1);
  const types = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : [];
  if (types.length > 1) return fc.oneof(...types.map((t) => arbitraryFor({ ...schema, type: t }, resolve, depth)));
  switch (types[0]) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000);
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1000);
      return fc.integer({ min: Math.ceil(min), max: Math.floor(Math.min(max, min + 10_000)) });
    }
    case 'number': {
      const min = schema.minimum ?? schema.exclusiveMinimum ?? -1000;
      const max = schema.maximum ?? schema.exclusiveMaximum ?? 1000;
      return fc
        .double({ min, max, noNaN: true, noDefaultInfinity: true })
        .filter((n) => (schema.exclusiveMinimum === undefined || n > schema.exclusiveMinimum) && Object.is(n, n));
    }
    case 'string': {
      if (schema.format === 'date-time')
        return fc
          .date({ min: new Date(Date.now() + 86_400_000), max: new Date('2100-01-01'), noInvalidDate: true })
          .map((d) => d.toISOString());
      if (schema.pattern) {
        const maxLength = schema.maxLength ?? 200;
        return fc.stringMatching(new RegExp(schema.pattern)).filter((s) => s.length <= maxLength);
      }
      return fc.string({
        unit: 'grapheme',
        minLength: schema.minLength ?? 0,
        maxLength: Math.min(schema.maxLength ?? 200, Math.max(schema.minLength ?? 0, 200)),
      });
    }
    case 'array':
      return fc.array(arbitraryFor(schema.items, resolve, depth + 1), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 5, 5),
      });
    case 'object': {
      const properties = schema.properties ?? {};
      const required = new Set(schema.required ?? []);
      const record: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties))
        record[name] = arbitraryFor(property, resolve, depth + 1);
      return fc.record(record, { requiredKeys: [...required].filter((k) => k in record) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** A value that is almost `valid`: one thing about it is wrong (a type, a missing or extra field, a size). */
export function bent(valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> {
  return fc.oneof(
    valid.map((v) => (isObject(v) ? { ...v, unexpectedField: 'x' } : v)),
    fc.tuple(valid, fc.nat()).map(([v, n]) => {
      if (!isObject(v)) return v;
      const keys = Object.keys(v);
      if (keys.length === 0) return v;
      const { [keys[n % keys.length]!]: _, ...rest } = v;
      return rest;
    }),
    fc.tuple(valid, fc.nat(), fc.jsonValue({ maxDepth: 1 })).map(([v, n, other]) => {
      if (!isObject(v)) return other;
      const keys = Object.keys(v);
      if (keys.length === 0) return other;
      return { ...v, [keys[n % keys.length]!]: other };
    }),
    fc.jsonValue({ maxDepth: 3 }),
  );
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
