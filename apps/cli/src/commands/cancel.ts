import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

export async function cancelCommand(ctx: CliContext, runId: string, options: { json?: boolean }): Promise<ExitCode> {
  const run = await ctx.client.cancelRun(runId);
  if (options.json) ctx.io.out(`${JSON.stringify(run)}\n`);
  else ctx.io.out(`${run.id}: cancellation requested (status now ${run.status})\n`);
  return ExitCode.Ok;
}
