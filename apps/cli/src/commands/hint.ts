import { CreateHintRequest } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { oneLine } from '../human-format.js';

/** The hint from the words on the command line, or from standard input for a single `-`. */
export async function resolveHintText(words: string[], readStdin: () => Promise<string>): Promise<string> {
  const raw = words.length === 1 && words[0] === '-' ? await readStdin() : words.join(' ');
  const checked = CreateHintRequest.safeParse({ text: raw });
  if (!checked.success) {
    const why = checked.error.issues[0]?.code === 'too_big' ? 'at most 2000 characters' : 'some text';
    throw new UsageError(`the hint needs ${why}`);
  }
  return checked.data.text;
}

/** Sends guidance to a queued or running run; its agent folds it into its next prompt (`hint.applied` says where). */
export async function hintCommand(
  ctx: CliContext,
  runId: string,
  words: string[],
  options: { json?: boolean },
): Promise<ExitCode> {
  const text = await resolveHintText(words, ctx.io.readStdin);
  const hint = await ctx.client.createHint(runId, text);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(hint)}\n`);
  } else {
    ctx.io.out(`${hint.id}: sent to ${runId}: "${oneLine(hint.text, 80)}"\n`);
    ctx.io.out('the agent reads it at its next step; `autolab watch` shows hint.applied when it does\n');
  }
  return ExitCode.Ok;
}
