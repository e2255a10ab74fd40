import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatBestMetric, formatDateTime, formatTable, formatUsd, oneLine } from '../human-format.js';

export interface ListOptions {
  limit?: number;
  cursor?: string;
  json?: boolean;
}

export async function listCommand(ctx: CliContext, options: ListOptions): Promise<ExitCode> {
  const page = await ctx.client.listRuns({ limit: options.limit, cursor: options.cursor });
  if (options.json) {
    ctx.io.out(`${JSON.stringify(page)}\n`);
    return ExitCode.Ok;
  }
  if (page.runs.length === 0) {
    ctx.io.out(options.cursor ? 'no more runs\n' : 'no runs yet\n');
    return ExitCode.Ok;
  }
  const rows = page.runs.map((run) => [
    run.id,
    run.status,
    run.stage ?? '-',
    `${run.iteration}/${run.maxIterations}`,
    formatBestMetric(run.bestMetric),
    formatUsd(run.usage.costUsd),
    formatDateTime(run.createdAt, ctx.clock),
    oneLine(run.goal, 50),
  ]);
  const header = ['ID', 'STATUS', 'STAGE', 'ITER', 'BEST', 'COST', 'CREATED', 'GOAL'];
  // Iterations and cost read as numbers: right-aligned, their digits line up.
  const align = header.map((name): 'left' | 'right' => (name === 'ITER' || name === 'COST' ? 'right' : 'left'));
  for (const line of formatTable(rows, { header, align })) ctx.io.out(`${line}\n`);
  if (page.nextCursor) ctx.io.out(`more: autolab list --cursor ${page.nextCursor}\n`);
  return ExitCode.Ok;
}
