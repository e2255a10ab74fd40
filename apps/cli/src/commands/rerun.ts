import type { RerunStage } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { watchRun } from './watch.js';

export interface RerunOptions {
  from: RerunStage;
  watch?: boolean;
  plain?: boolean;
  json?: boolean;
}

/**
 * Starts a finished run again from a stage, keeping what came before it (rerun the writeup with the same
 * experiments, for instance). With `watch`, follows only what the rerun adds to the run's log.
 */
export async function rerunCommand(ctx: CliContext, runId: string, options: RerunOptions): Promise<ExitCode> {
  // Where the log ends now: the rerun's events come after it. Without it the watch replays the old attempt first
  // (and still goes past its `run.finished`), so a failure here costs nothing but noise.
  const after = options.watch ? await ctx.client.lastEventId(runId).catch(() => null) : null;
  const run = await ctx.client.rerun(runId, options.from);
  if (options.json) {
    ctx.io.out(`${JSON.stringify(run)}\n`);
  } else {
    ctx.io.out(`${run.id}: rerun from ${options.from} requested (status now ${run.status})\n`);
    if (!options.watch) ctx.io.out(`watch it with: autolab watch ${run.id}\n`);
  }
  if (!options.watch) return ExitCode.Ok;
  return watchRun(ctx, run.id, { json: options.json ?? false, plain: options.plain ?? false, after });
}
