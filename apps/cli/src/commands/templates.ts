import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatTable, oneLine } from '../human-format.js';

export async function templatesCommand(ctx: CliContext, options: { json?: boolean }): Promise<ExitCode> {
  const { templates } = await ctx.client.listTemplates();
  if (options.json) {
    ctx.io.out(`${JSON.stringify({ templates })}\n`);
    return ExitCode.Ok;
  }
  const rows = templates.map((t) => [t.name, `${t.metric.name} (${t.metric.direction})`, oneLine(t.title, 60)]);
  for (const line of formatTable(rows, { header: ['NAME', 'METRIC', 'TITLE'] })) ctx.io.out(`${line}\n`);
  ctx.io.out('start one with: autolab submit --template NAME [GOAL]\n');
  return ExitCode.Ok;
}
