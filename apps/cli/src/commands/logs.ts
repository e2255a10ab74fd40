import type { CliContext } from '../context.js';
import { ApiError, UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { sanitize } from '../human-format.js';

export const LOG_STREAMS = ['stdout', 'stderr', 'both'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

const NODE_ID = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,63}$/;

/** `n003`, or just `3` for it (node ids are `n` and three digits). */
export function normalizeNodeId(value: string): string {
  const trimmed = value.trim();
  if (/^\d{1,3}$/.test(trimmed)) return `n${trimmed.padStart(3, '0')}`;
  if (!NODE_ID.test(trimmed)) throw new UsageError(`not a node id: ${JSON.stringify(value)} (expected e.g. n003)`);
  return trimmed;
}

/**
 * Prints what a node's program wrote, as the sandbox captured it (`nodes/<node>/stdout.txt` and `stderr.txt`: the
 * head and the tail when it was long). On a terminal escape sequences are removed, since the program was written by
 * a model; piped, the text is passed on unchanged.
 */
export async function logsCommand(
  ctx: CliContext,
  runId: string,
  nodeIdArgument: string,
  options: { stream?: LogStream; json?: boolean },
): Promise<ExitCode> {
  const nodeId = normalizeNodeId(nodeIdArgument);
  const stream = options.stream ?? 'both';
  const wanted = stream === 'both' ? (['stdout', 'stderr'] as const) : ([stream] as const);
  const texts: Partial<Record<'stdout' | 'stderr', string | null>> = {};
  let missing: ApiError | null = null;
  for (const name of wanted) {
    try {
      texts[name] = await ctx.client.readArtifactText(runId, `nodes/${nodeId}/${name}.txt`);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 404 || error.code === 'run_not_found') throw error;
      texts[name] = null;
      missing = error;
    }
  }
  if (missing && wanted.every((name) => texts[name] === null)) {
    throw new ApiError(
      404,
      missing.code,
      `no output of node ${nodeId} in ${runId}: the node does not exist or has not finished yet ` +
        `(autolab watch shows output live)`,
    );
  }
  if (options.json) {
    ctx.io.out(`${JSON.stringify({ runId, nodeId, ...texts })}\n`);
    return ExitCode.Ok;
  }
  const show = ctx.io.stdoutTty
    ? (text: string) => sanitize(text.replace(/\r\n/g, '\n').replace(/\r/g, '\n'))
    : (text: string) => text;
  for (const name of wanted) {
    const text = texts[name];
    if (stream === 'both') ctx.io.out(`==> nodes/${nodeId}/${name}.txt <==\n`);
    if (text === null || text === undefined) {
      ctx.io.out(`(no ${name}.txt)\n`);
      continue;
    }
    if (text.length === 0 && stream === 'both') ctx.io.out('(empty)\n');
    ctx.io.out(show(text));
    if (text.length > 0 && !text.endsWith('\n')) ctx.io.out('\n');
  }
  return ExitCode.Ok;
}
