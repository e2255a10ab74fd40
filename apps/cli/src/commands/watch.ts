import type { RunRecord, RunStatus } from '@autolab/contracts';
import { RunStatus as RunStatusSchema } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { followEvents } from '../event-follower.js';
import { EventFormatter } from '../event-format.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration, formatRunOutcome } from '../human-format.js';

/**
 * Prints every event of a run until it finishes (one line each, or one JSON object each with `json`), then a final
 * status line. The exit code is the run's outcome: 0 when it succeeded, 1 when it failed or was cancelled.
 */
export async function watchRun(ctx: CliContext, runId: string, options: { json: boolean }): Promise<ExitCode> {
  const { io } = ctx;
  const formatter = new EventFormatter(ctx.clock);
  let finalStatus: RunStatus | null = null;
  const events = followEvents(ctx.client, runId, {
    ...ctx.follow,
    onReconnect: (info) => {
      const resume = info.lastEventId ? `, resuming after event ${info.lastEventId}` : '';
      io.err(
        `autolab: ${info.reason}; reconnecting in ${formatDuration(info.delayMs)} ` +
          `(attempt ${info.attempt}/${info.maxAttempts}${resume})\n`,
      );
    },
    onInvalidEvent: (reason) => io.err(`autolab: ${reason}\n`),
  });
  for await (const item of events) {
    if (options.json) {
      io.out(`${JSON.stringify(item.raw)}\n`);
    } else {
      const lines = item.event
        ? formatter.format(item.event)
        : formatter.formatUnknown({ ...item.raw, type: item.type });
      for (const line of lines) io.out(`${line}\n`);
    }
    if (item.type === 'run.finished') {
      const status = RunStatusSchema.safeParse((item.raw.data as { status?: unknown } | undefined)?.status);
      finalStatus = status.success ? status.data : null;
    }
  }
  if (!options.json) for (const line of formatter.flush()) io.out(`${line}\n`);

  // The record has the whole picture (iterations, best metric); the event alone will do if it cannot be had.
  // The finished event is the authority on the outcome.
  const record: RunRecord | null = await ctx.client.getRun(runId).catch(() => null);
  const status = finalStatus ?? record?.status ?? null;
  const summary = record
    ? formatRunOutcome(status ? { ...record, status } : record)
    : `${runId} ${status ?? 'finished'}`;
  if (options.json) io.err(`${summary}\n`);
  else io.out(`${summary}\n`);
  return status === 'succeeded' ? ExitCode.Ok : ExitCode.RunFailed;
}
