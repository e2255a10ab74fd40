import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { CreatedApiKey } from '@autolab/contracts';
import { LocalArtifactStore } from '@autolab/store';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arbitraryFor, bent, type JsonSchema } from '../openapi-arbitrary.js';
import { api, type Stack, startStack, submitRun } from '../stack.js';

/**
 * OpenAPI-driven fuzzing: requests generated from the API's own description (mostly valid so that they reach the
 * handlers, then bent: wrong types, missing and extra fields, odd path ids, encodings, content types, keys), seeded
 * and bounded. Every answer must be below 500, in the error shape when it is an error, valid against its documented
 * schema when it is a success, and free of any secret. `FUZZ_SEED` and `FUZZ_RUNS` override the defaults.
 */
const SEED = Number(process.env.FUZZ_SEED ?? 20261203);
const RUNS = Number(process.env.FUZZ_RUNS ?? 2500);

type Parameter = { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema?: JsonSchema };
type Operation = {
  method: string;
  path: string;
  parameters: Parameter[];
  body: JsonSchema | null;
  /** The body is multipart/form-data (uploads): generated as file parts, not JSON. */
  multipart: boolean;
  responses: Record<string, { content?: Record<string, { schema?: JsonSchema }> }>;
};
type Document = {
  paths: Record<string, Record<string, Omit<Operation, 'method' | 'path' | 'body'> & { requestBody?: unknown }>>;
  components?: { schemas?: Record<string, JsonSchema> };
};

let stack: Stack;
let operations: Operation[];
let document: Document;
let runId: string;
let otherRunId: string;
let uploadId: string;
let otherUploadId: string;
const keys: Record<string, string> = {};

interface Answer {
  status: number;
  type: string;
  text: string;
}

function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  const url = new URL(stack.apiUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const type = String(res.headers['content-type'] ?? '');
      const chunks: Buffer[] = [];
      // A live event stream does not end: its headers and first bytes are the answer.
      if (type.startsWith('text/event-stream')) {
        res.once('data', (c: Buffer) => {
          resolve({ status: res.statusCode ?? 0, type, text: c.toString('utf8') });
          req.destroy();
        });
        return;
      }
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer in 15 s: ${method} ${path}`)));
    req.on('error', reject);
    req.end(body);
  });
}

beforeAll(async () => {
  stack = await startStack({ worker: false });
  const create = async (body: Record<string, unknown>) =>
    (
      await api<CreatedApiKey>(stack, '/v1/admin/keys', {
        method: 'POST',
        body: JSON.stringify(body),
        key: stack.adminKey,
      })
    ).body.key;
  keys.tenant = stack.apiKey;
  keys.admin = stack.adminKey;
  keys.reader = await create({ tenant: 'test', scopes: ['runs:read'] });
  keys.other = await create({ tenant: 'other' });
  runId = (await submitRun(stack, { goal: 'A run the fuzzer pokes at from every side.' })).id;
  otherRunId = (await submitRun(stack, { goal: 'A run of another tenant.' }, { key: keys.other })).id;
  const uploadAs = async (key: string) => {
    const form = new FormData();
    form.append('file', new Blob(['a,b\n1,2\n']), 'data/train.csv');
    const res = await fetch(`${stack.apiUrl}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}` },
      body: form,
    });
    return ((await res.json()) as { id: string }).id;
  };
  uploadId = await uploadAs(keys.tenant);
  otherUploadId = await uploadAs(keys.other);
  const artifacts = new LocalArtifactStore(join(stack.dataDir, 'artifacts'));
  await artifacts.put(runId, 'paper/paper.tex', '\\documentclass{article}');
  await artifacts.put(runId, 'nodes/n001/stdout.txt', 'loss 0.5\n');
  document = (await api<Document>(stack, '/openapi.json', { key: null })).body;
  operations = Object.entries(document.paths).flatMap(([path, byMethod]) =>
    Object.entries(byMethod).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: (op.parameters ?? []) as Parameter[],
      body:
        ((op.requestBody as { content?: Record<string, { schema?: JsonSchema }> } | undefined)?.content?.[
          'application/json'
        ]?.schema as JsonSchema | undefined) ?? null,
      multipart: !!(op.requestBody as { content?: Record<string, unknown> } | undefined)?.content?.[
        'multipart/form-data'
      ],
      responses: op.responses ?? {},
    })),
  );
}, 60_000);

afterAll(async () => {
  await stack?.close();
});

const resolve = (ref: string): JsonSchema =>
  document.components?.schemas?.[ref.replace('#/components/schemas/', '')] ?? {};

/** Ids and path pieces worth trying: real ones, another tenant's, and junk of every kind. */
const pathValue = (name: string, opPath: string) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constant(name === '*' ? 'paper/paper.tex' : opPath.startsWith('/v1/uploads') ? uploadId : runId),
    },
    fc.constant(opPath.startsWith('/v1/uploads') ? otherUploadId : otherRunId),
    fc.constant('run_00000000000000000000000000'),
    fc.constant(`upl_${'0'.repeat(26)}`),
    fc.constant(name === '*' ? '../../../etc/passwd' : '..'),
    fc.string({ unit: 'binary', maxLength: 40 }).map(encodeURIComponent),
    fc.string({ maxLength: 300 }).map(encodeURIComponent),
    fc.constantFrom('%C0%AE', '%00', '%', '%zz', '%2e%2e', '%252e', 'a%2Fb', ';', '%E2%80%AE'),
  );

const authArbitrary = fc.constantFrom(...(['tenant', 'tenant', 'admin', 'reader', 'other', null, 'garbage'] as const));
const contentTypes = fc.constantFrom(
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'garbage',
  '',
);

const MULTIPART_BOUNDARY = 'fuzz-boundary-7Qx';
/** File parts with names a user or an attacker might send (paths, hidden files, escapes, junk) and any content. */
const multipartBody = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(
        fc.record({
          name: fc.oneof(
            fc.constantFrom('a.csv', 'data/train.csv', './code/main.py', '.git/config', '../x', '/etc/passwd', 'a.zip'),
            fc.string({ maxLength: 40 }),
          ),
          content: fc.string({ maxLength: 200 }),
        }),
        { minLength: 0, maxLength: 4 },
      )
      .map(
        (parts) =>
          parts
            .map(
              (p) =>
                `--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="${p.name.replace(/["\r\n]/g, '_')}"\r\n` +
                `Content-Type: application/octet-stream\r\n\r\n${p.content}\r\n`,
            )
            .join('') + `--${MULTIPART_BOUNDARY}--\r\n`,
      ),
  },
  fc.string({ maxLength: 200 }),
  fc.constant(`--${MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nno end`),
);
const multipartType = fc.constantFrom(
  `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`,
  `multipart/form-data; boundary=${MULTIPART_BOUNDARY}`,
  'multipart/form-data',
  'application/json',
  '',
);

function requestArbitrary(op: Operation) {
  const params = op.parameters;
  const pathParams = fc.record(
    Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, pathValue(p.name, op.path)])),
  );
  const query = fc.record(
    Object.fromEntries(
      params
        .filter((p) => p.in === 'query')
        .map((p) => [p.name, fc.oneof(arbitraryFor(p.schema, resolve), fc.string({ maxLength: 50 }))]),
    ),
    { requiredKeys: [] },
  );
  // Header values a client library can send (control bytes in headers are the raw-socket tests' business).
  const headerValue = (p: Parameter) =>
    fc
      .oneof(arbitraryFor(p.schema, resolve), fc.string({ maxLength: 60 }))
      .map(String)
      .filter((s) => /^[\x20-\x7e]*$/.test(s));
  const headers = fc.record(
    Object.fromEntries(params.filter((p) => p.in === 'header').map((p) => [p.name, headerValue(p)])),
    { requiredKeys: [] },
  );
  const valid = op.body ? arbitraryFor(op.body, resolve) : fc.constant(undefined);
  const body = op.multipart
    ? multipartBody
    : op.body
      ? fc.oneof(
          { weight: 3, arbitrary: valid.map((v) => JSON.stringify(v)) },
          { weight: 2, arbitrary: bent(valid).map((v) => JSON.stringify(v)) },
          fc.string({ maxLength: 100 }),
          fc.constant('{"goal": '),
          fc.constant(`{"goal": "${'x'.repeat(70_000)}"}`),
        )
      : fc.option(
          fc.jsonValue({ maxDepth: 1 }).map((v) => JSON.stringify(v)),
          { freq: 4 },
        );
  return fc.record({
    pathParams,
    query,
    headers,
    body,
    auth: authArbitrary,
    contentType: op.multipart ? multipartType : contentTypes,
    accept: fc.constantFrom('application/json', 'text/event-stream', '*/*', 'text/html', ''),
  });
}

describe('OpenAPI-driven fuzzing', () => {
  it('answers every generated request below 500, in the documented shape, without secrets', async () => {
    const ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: true });
    addFormats.default(ajv);
    ajv.addSchema({ $id: 'doc', components: document.components ?? {} });
    const validators = new Map<JsonSchema, ReturnType<typeof ajv.compile>>();
    const validatorFor = (schema: JsonSchema) => {
      let validate = validators.get(schema);
      if (!validate) {
        validate = ajv.compile(rewriteRefs(schema));
        validators.set(schema, validate);
      }
      return validate;
    };
    const secrets = Object.values(keys);
    const seen = new Map<string, number>();
    const failures: string[] = [];

    const property = fc.asyncProperty(
      fc
        .nat({ max: operations.length - 1 })
        .chain((index) => requestArbitrary(operations[index]!).map((r) => ({ index, ...r }))),
      async ({ index, pathParams, query, headers, body, auth, contentType, accept }) => {
        const op = operations[index]!;
        let path = op.path.replace(/\{([^}]+)\}/g, (_, name: string) => String(pathParams[name] ?? 'x'));
        const search = new URLSearchParams(
          Object.entries(query).map(([k, v]): [string, string] => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
        ).toString();
        if (search) path += `?${search}`;
        const sent: Record<string, string> = {};
        for (const [k, v] of Object.entries(headers)) sent[k] = String(v);
        if (auth) sent.authorization = `Bearer ${auth === 'garbage' ? 'alk_garbage' : keys[auth]}`;
        if (accept) sent.accept = accept;
        const withBody = body !== undefined && body !== null && op.method !== 'GET' && op.method !== 'DELETE';
        if (withBody && contentType) sent['content-type'] = contentType;
        const answer = await send(op.method, path, sent, withBody ? (body as string) : undefined);
        const what = `${op.method} ${path.slice(0, 160)} as ${auth} → ${answer.status}`;
        seen.set(
          `${op.method} ${op.path} ${answer.status}`,
          (seen.get(`${op.method} ${op.path} ${answer.status}`) ?? 0) + 1,
        );

        // A health probe answers 503 while no worker runs (this stack has none): documented, not a failure.
        const healthProbe = op.path === '/healthz' && answer.status === 503;
        if (answer.status >= 500 && !healthProbe) failures.push(`${what}: ${answer.text.slice(0, 300)}`);
        for (const secret of secrets) {
          // The one answer that may hold a secret is the new key POST /v1/admin/keys just made (not one of these).
          if (answer.text.includes(secret)) failures.push(`${what}: a key is in the answer`);
        }
        if (op.method === 'HEAD' || answer.type.startsWith('text/event-stream')) return;
        const documented = op.responses[String(answer.status)];
        // A path whose parameters leave the route (an encoded slash, say) may reach no route at all: a 404.
        if (!documented && answer.status !== 404) {
          failures.push(`${what}: status ${answer.status} is not listed for ${op.method} ${op.path}`);
          return;
        }
        if (answer.status >= 400 && !errorShaped(answer.text))
          if (!healthProbe) failures.push(`${what}: not the error shape: ${answer.text.slice(0, 200)}`);
        const schema = documented?.content?.['application/json']?.schema;
        if (schema && answer.type.startsWith('application/json')) {
          const validate = validatorFor(schema);
          if (!validate(JSON.parse(answer.text)))
            failures.push(`${what}: body does not match its schema: ${ajv.errorsText(validate.errors)}`);
        }
      },
    );
    await fc.assert(property, { seed: SEED, numRuns: RUNS, endOnFailure: true });
    expect(failures.slice(0, 30)).toEqual([]);
    // The generator reached the handlers, not only the validators: successes on most operations.
    const succeeded = new Set([...seen.keys()].filter((k) => / 2\d\d$/.test(k)).map((k) => k.replace(/ \d+$/, '')));
    expect(succeeded.size).toBeGreaterThanOrEqual(Math.floor(operations.length * 0.7));
  }, 600_000);
});

function errorShaped(text: string): boolean {
  try {
    const parsed = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    return typeof parsed.error?.code === 'string' && typeof parsed.error?.message === 'string';
  } catch {
    return false;
  }
}

/** The document's `#/components/schemas/X` refs, pointed at the schema registered as `doc`. */
function rewriteRefs(schema: JsonSchema): JsonSchema {
  return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as JsonSchema;
}
