import fastJson from 'fast-json-stringify';
import type { FastifySerializerCompiler } from 'fastify';
import { z } from 'zod';

/**
 * Responses are written by a serializer compiled once per route from the route's zod schema (its JSON Schema, through
 * fast-json-stringify, which Fastify itself uses), instead of validating every response with zod at run time: the
 * zod pass was a large part of each request's CPU. The handlers build their answers from the same contracts, so the
 * shape is checked where it is made (types) and by the tests; what the schema does not name is left out, as zod's
 * strip did. A schema that cannot be expressed in JSON Schema (a transform) falls back to zod's check, and so does an
 * answer the compiled serializer refuses.
 */
export const compiledSerializer: FastifySerializerCompiler<z.ZodType> = ({ schema }) => {
  let jsonSchema: object;
  try {
    jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-07' });
  } catch {
    return (data) => JSON.stringify(schema.parse(data));
  }
  const stringify = fastJson(jsonSchema as Parameters<typeof fastJson>[0] & object);
  return (data) => {
    try {
      return stringify(data);
    } catch {
      // Stored data written before a field with a default existed (an older worker's event) lacks a field the output
      // schema requires: zod's parse fills in the default, as it did before this serializer (an answer zod refuses too
      // is still an error).
      return JSON.stringify(schema.parse(data));
    }
  };
};
