import { type FollowedEvent, followEvents, type ReconnectInfo } from '@autolab/api-client';
import { isFinalStatus, type RunRecord, type RunStatus, RunStatus as RunStatusSchema } from '@autolab/contracts';
import type { CliContext } from '../context.js';
import { InterruptedError } from '../errors.js';
import { EventFormatter } from '../event-format.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration, formatRunOutcome } from '../human-format.js';
import { LiveScreen } from '../terminal/live-screen.js';
import { renderStatusBlock } from '../watch/status-block.js';
import { initialWatchState, reduceWatch, type WatchAction, type WatchState } from '../watch/watch-state.js';

export interface WatchOptions {
  /** One JSON event per line on stdout; the final status line on stderr. */
  json?: boolean;
  /** Plain lines even on a terminal (no live view). */
  plain?: boolean;
  /** Follow only what comes after this event id (after a rerun, the log before it is history). */
  after?: string | null;
}

/** How events reach the user: plain lines, JSON lines, or the live view. */
interface WatchOutput {
  event(item: FollowedEvent): void;
  notice(text: string): void;
  record(record: RunRecord): void;
  /** The run is over (or the watch stopped): print what is left and the final status line. */
  finish(summary: string | null): void;
}

/**
 * Follows a run until it finishes: on a terminal a live view (log lines scrolling above a status block), otherwise
 * (or with `plain`) one line per event, or with `json` one JSON object per event; then a final status line. The exit
 * code is the run's outcome: 0 when it succeeded, 1 when it failed or was cancelled.
 */
export async function watchRun(ctx: CliContext, runId: string, options: WatchOptions = {}): Promise<ExitCode> {
  const live = !options.json && !options.plain && ctx.io.stdoutTty && !ctx.display.dumb;
  // The live view shows budgets and limits from the start, so it reads the record first (a wrong id fails here,
  // before anything is drawn).
  const initial = live ? await ctx.client.getRun(runId) : null;
  /** The record as read at the (last) `run.finished`. */
  let record: RunRecord | null = null;
  const output: WatchOutput = initial
    ? liveOutput(ctx, runId, initial)
    : options.json
      ? jsonOutput(ctx)
      : plainOutput(ctx);

  const interrupt = new AbortController();
  const removeHandler = live ? ctx.io.onInterrupt?.(() => interrupt.abort()) : undefined;
  let finalStatus: RunStatus | null = null;
  try {
    const events = followEvents(ctx.client, runId, {
      ...ctx.follow,
      after: options.after ?? null,
      signal: interrupt.signal,
      onReconnect: (info) => output.notice(describeReconnect(info)),
      onInvalidEvent: (reason) => output.notice(`autolab: ${reason}`),
      // A `run.finished` whose run is live again was followed by a rerun: keep following.
      confirmFinished: async () => {
        const latest = await ctx.client.getRun(runId).catch(() => null);
        if (!latest) return true;
        record = latest;
        output.record(latest);
        return isFinalStatus(latest.status);
      },
    });
    for await (const item of events) {
      output.event(item);
      if (item.type === 'run.finished') {
        const status = RunStatusSchema.safeParse((item.raw.data as { status?: unknown } | undefined)?.status);
        finalStatus = status.success ? status.data : null;
      }
    }
  } catch (error) {
    output.finish(null);
    if (!interrupt.signal.aborted) throw error;
    throw new InterruptedError(`interrupted; ${runId} goes on (autolab watch ${runId} follows it again)`);
  } finally {
    removeHandler?.();
  }

  // The record has the whole picture (iterations, best metric); the event alone will do if it cannot be had.
  // The finished event is the authority on the outcome.
  record ??= (await ctx.client.getRun(runId).catch(() => null)) ?? initial;
  const status = finalStatus ?? record?.status ?? null;
  output.finish(
    record ? formatRunOutcome(status ? { ...record, status } : record) : `${runId} ${status ?? 'finished'}`,
  );
  return status === 'succeeded' ? ExitCode.Ok : ExitCode.RunFailed;
}

function describeReconnect(info: ReconnectInfo): string {
  const resume = info.lastEventId ? `, resuming after event ${info.lastEventId}` : '';
  return (
    `autolab: ${info.reason}; reconnecting in ${formatDuration(info.delayMs)} ` +
    `(attempt ${info.attempt}/${info.maxAttempts}${resume})`
  );
}

/** One line per event on stdout; remarks on stderr. */
function plainOutput(ctx: CliContext): WatchOutput {
  const formatter = new EventFormatter(ctx.clock);
  const print = (lines: string[]) => {
    for (const line of lines) ctx.io.out(`${line}\n`);
  };
  return {
    event: (item) =>
      print(item.event ? formatter.format(item.event) : formatter.formatUnknown({ ...item.raw, type: item.type })),
    notice: (text) => ctx.io.err(`${text}\n`),
    record: () => undefined,
    finish: (summary) => {
      print(formatter.flush());
      if (summary !== null) ctx.io.out(`${summary}\n`);
    },
  };
}

/** The events exactly as the server sent them, one per line on stdout; everything else on stderr. */
function jsonOutput(ctx: CliContext): WatchOutput {
  return {
    event: (item) => ctx.io.out(`${JSON.stringify(item.raw)}\n`),
    notice: (text) => ctx.io.err(`${text}\n`),
    record: () => undefined,
    finish: (summary) => {
      if (summary !== null) ctx.io.err(`${summary}\n`);
    },
  };
}

/**
 * The live view: the plain lines scroll above a status block redrawn in place. Everything goes through the screen
 * (remarks included), so nothing written past it can tear the block.
 */
function liveOutput(ctx: CliContext, runId: string, record: RunRecord): WatchOutput {
  const tty = ctx.io.stdoutTty!;
  const formatter = new EventFormatter(ctx.clock);
  let state: WatchState = reduceWatch(initialWatchState(runId), { type: 'record', record });
  const screen = new LiveScreen({
    write: (text) => ctx.io.out(text),
    columns: () => tty.columns(),
    render: (width, now) => renderStatusBlock(state, { width, color: ctx.display.color, now }),
    frameIntervalMs: ctx.live.frameIntervalMs,
    tickMs: ctx.live.tickMs,
    now: ctx.live.now,
  });
  const dispatch = (action: WatchAction) => {
    state = reduceWatch(state, action);
    screen.invalidate();
  };
  screen.start();
  return {
    event: (item) => {
      if (item.event) {
        screen.log(formatter.format(item.event));
        dispatch({ type: 'event', event: item.event });
      } else {
        const lines = formatter.formatUnknown({ ...item.raw, type: item.type });
        screen.log(lines);
        const time = typeof item.raw.time === 'string' ? item.raw.time : '';
        const message = typeof item.raw.message === 'string' ? item.raw.message : '';
        dispatch({ type: 'unknown-event', eventType: item.type, time, message });
      }
    },
    notice: (text) => {
      screen.log([text]);
      dispatch({ type: 'notice', text });
    },
    record: (latest) => dispatch({ type: 'record', record: latest }),
    finish: (summary) => {
      screen.log(formatter.flush());
      screen.close();
      if (summary !== null) ctx.io.out(`${summary}\n`);
    },
  };
}
