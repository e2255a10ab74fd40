import { readFile, realpath } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { type core, z } from 'zod';

/** The scenarios shipped with the project (the offline demo and the misbehaving-model scenario). */
export const BUILTIN_SCENARIOS_DIR = fileURLToPath(new URL('../scenarios', import.meta.url));

const REPLY_KINDS = ['arguments', 'rawArguments', 'content', 'error', 'fault'] as const;

/**
 * Misbehaviour of the server itself, for testing how clients survive it (docs/testing.md lists what each does):
 * a request that is never answered, 200s whose body is not a completion, and connections that drop.
 */
export const FAULTS = [
  'hang',
  'stall-mid-body',
  'not-json',
  'truncated',
  'empty',
  'error-200',
  'reset',
  'reset-mid-body',
] as const;
export type Fault = (typeof FAULTS)[number];

/** OpenAI's rule for function names; `text` (the key for requests without tools) fits it too. */
const ReplyKey = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, 'a reply key is a function name (letters, digits, _ -) or "text"');

const ScenarioItem = z
  .strictObject({
    arguments: z.json().optional(),
    rawArguments: z.string().optional(),
    tool: ReplyKey.optional(),
    content: z.string().optional(),
    error: z
      .strictObject({
        status: z.number().int().min(400).max(599),
        message: z.string().min(1),
        type: z.string().min(1).optional(),
        code: z.string().min(1).optional(),
      })
      .optional(),
    fault: z.enum(FAULTS).optional(),
    times: z.number().int().min(1).default(1),
    delayMs: z.number().int().min(0).max(600_000).default(0),
  })
  .superRefine((item, ctx) => {
    const kinds = REPLY_KINDS.filter((kind) => item[kind] !== undefined);
    if (kinds.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        message: `an item needs exactly one of ${REPLY_KINDS.join(', ')} (found ${kinds.join(', ') || 'none'})`,
      });
    }
    if (item.tool !== undefined && item.arguments === undefined && item.rawArguments === undefined) {
      ctx.addIssue({ code: 'custom', path: ['tool'], message: '"tool" only goes with arguments or rawArguments' });
    }
  });

/** A scenario file as written (YAML or JSON). */
export const ScenarioFile = z.strictObject({
  description: z.string().optional(),
  /** Another scenario in the same directory whose replies this one starts from; its own keys replace the base's. */
  extends: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .optional(),
  replies: z.record(ReplyKey, z.array(ScenarioItem).min(1, 'a reply list needs at least one item')),
});
export type ScenarioFile = z.infer<typeof ScenarioFile>;

interface ReplyTiming {
  /** How many requests this item answers before the cursor moves on. */
  times: number;
  delayMs: number;
}

/** One scripted answer, ready to send: tool-call arguments are already the exact string the client receives. */
export type ScenarioReply = ReplyTiming &
  (
    | { kind: 'tool_call' /** null: the function named by the reply key */; tool: string | null; arguments: string }
    | { kind: 'content'; content: string }
    | { kind: 'error'; status: number; message: string; type: string | null; code: string | null }
    | { kind: 'fault'; fault: Fault }
  );

export interface Scenario {
  name: string;
  path: string;
  description: string;
  replies: Record<string, ScenarioReply[]>;
}

/** A scenario file that cannot be used; the message names the file and what is wrong with it. */
export class ScenarioError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = this.constructor.name;
  }
}

/** Reads, validates and resolves a scenario file (`$file` includes are read now, so a bad path fails here). */
export async function loadScenario(path: string, depth = 0): Promise<Scenario> {
  const file = resolve(path);
  if (depth > 5) throw new ScenarioError(`scenario file ${file}: "extends" is nested too deeply (a cycle?)`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ScenarioError(`cannot read scenario file ${file}: ${(err as Error).message}`, { cause: err });
  }
  let data: unknown;
  try {
    data = parse(text);
  } catch (err) {
    throw new ScenarioError(`scenario file ${file} is not valid YAML: ${(err as Error).message}`, { cause: err });
  }
  const parsed = ScenarioFile.safeParse(data);
  if (!parsed.success) {
    throw new ScenarioError(`scenario file ${file} is invalid:\n${formatIssues(parsed.error.issues)}`);
  }

  const dir = await realpath(dirname(file));
  const base = parsed.data.extends ? await loadScenario(resolve(dir, `${parsed.data.extends}.yaml`), depth + 1) : null;
  const replies: Record<string, ScenarioReply[]> = { ...(base?.replies ?? {}) };
  for (const [key, items] of Object.entries(parsed.data.replies)) {
    replies[key] = await Promise.all(
      items.map(async (item, i): Promise<ScenarioReply> => {
        const timing = { times: item.times, delayMs: item.delayMs };
        if (item.error) {
          const { status, message, type, code } = item.error;
          return { kind: 'error', status, message, type: type ?? null, code: code ?? null, ...timing };
        }
        if (item.fault) return { kind: 'fault', fault: item.fault, ...timing };
        if (item.content !== undefined) return { kind: 'content', content: item.content, ...timing };
        const args =
          item.rawArguments ??
          JSON.stringify(await resolveIncludes(item.arguments, dir, `${file}: replies.${key}[${i}].arguments`));
        return { kind: 'tool_call', tool: item.tool ?? null, arguments: args, ...timing };
      }),
    );
  }
  return {
    name: basename(file, extname(file)),
    path: file,
    description: parsed.data.description ?? '',
    replies,
  };
}

/** Replaces every `{ "$file": "relative/path" }` with that file's text. */
async function resolveIncludes(value: unknown, dir: string, where: string): Promise<unknown> {
  if (Array.isArray(value)) return Promise.all(value.map((v, i) => resolveIncludes(v, dir, `${where}[${i}]`)));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [only] = entries;
  if (entries.length === 1 && only?.[0] === '$file' && typeof only[1] === 'string') {
    return readInclude(only[1], dir, where);
  }
  const resolved = await Promise.all(
    entries.map(async ([k, v]) => [k, await resolveIncludes(v, dir, `${where}.${k}`)] as const),
  );
  return Object.fromEntries(resolved);
}

async function readInclude(path: string, dir: string, where: string): Promise<string> {
  const fail = (problem: string, cause?: unknown): never => {
    throw new ScenarioError(`${where}: $file "${path}" ${problem}`, { cause });
  };
  if (isAbsolute(path)) fail('must be a path relative to the scenario file');
  let target = '';
  try {
    // realpath, so a symbolic link inside the directory cannot point outside it either.
    target = await realpath(resolve(dir, path));
  } catch (err) {
    fail(`cannot be read: ${(err as Error).message}`, err);
  }
  const inside = relative(dir, target);
  if (inside === '' || inside === '..' || inside.startsWith(`..${sep}`) || isAbsolute(inside)) {
    fail(`is outside the scenario directory ${dir}`);
  }
  try {
    return await readFile(target, 'utf8');
  } catch (err) {
    return fail(`cannot be read: ${(err as Error).message}`, err);
  }
}

function formatIssues(issues: core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
      return `- ${path.replace(/^\./, '') || '(top level)'}: ${issue.message}`;
    })
    .join('\n');
}
