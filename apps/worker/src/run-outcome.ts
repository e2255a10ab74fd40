import { type RunFailureCode, type RunStatus, runFailure } from '@autolab/contracts';
import { describeGain, type HANDED_OVER, type ResearchOutcome } from '@autolab/engine';
import type { RunJobData, RunStore } from '@autolab/store';
import { DelayedError, type Job } from 'bullmq';
import type { Logger } from 'pino';

/** Why a run's signal fires; `shutdown` (the engine's HANDED_OVER) hands the run to another worker. */
export type StopReason = 'cancel' | typeof HANDED_OVER | 'time_limit';

/** What the worker finds wrong with a run before the engine starts (an input gone, an image it lacks). */
export class RunSetupError extends Error {
  constructor(
    readonly code: RunFailureCode,
    message: string,
  ) {
    super(message);
    this.name = this.constructor.name;
  }
}

/** An attempt that ended in an exception: a setup error fails the run with its code, anything else is internal. */
export function failedOutcome(err: unknown): ResearchOutcome {
  const code = err instanceof RunSetupError ? err.code : 'internal_error';
  return { status: 'failed', error: runFailure(code, (err as Error).message) };
}

/** The status a run attempt ends with, for the metrics: a time limit fails it, a shutdown or cancel interrupts it. */
export function outcomeStatus(outcome: ResearchOutcome, reason: StopReason | undefined): RunStatus | 'interrupted' {
  if (outcome.status !== 'interrupted') return outcome.status;
  return reason === 'time_limit' ? 'failed' : 'interrupted';
}

export interface EndedAttempt {
  job: Job<RunJobData>;
  /** The job's lock token, to move the job back to the queue on a shutdown. */
  token: string | undefined;
  run: { id: string; timeLimitMinutes: number };
  attempt: number;
  outcome: ResearchOutcome;
  /** Why the run's signal fired, when it did. */
  reason: StopReason | undefined;
}

/**
 * Writes how an attempt ended into the run record: succeeded, failed, cancelled, failed at its time limit, or back to
 * the queue when the worker shuts down (the job is delayed and `DelayedError` thrown, as BullMQ expects). Nothing is
 * written when a newer attempt has taken the run over. Returns what the job's result says.
 */
export async function recordOutcome(runs: RunStore, ended: EndedAttempt, log: Logger): Promise<string> {
  const { job, token, run, attempt, outcome } = ended;
  const runId = run.id;
  // A newer attempt took the run over (this worker's lock had expired): leave the run to it.
  if ((await runs.get(runId))?.attempt !== attempt) {
    log.warn({ attempt }, 'run superseded by a newer attempt; not finishing it');
    return 'superseded';
  }
  switch (outcome.status) {
    case 'succeeded': {
      const gain = outcome.startingCode;
      await runs.finish(
        runId,
        'succeeded',
        null,
        `Run succeeded: the paper and the code are ready to download.${gain ? ` Over the starting code: ${describeGain(gain)}.` : ''}`,
        { startingCode: gain },
      );
      break;
    }
    case 'failed':
      log.warn({ error: outcome.error }, 'run failed');
      await runs.finish(runId, 'failed', outcome.error, `Run failed: ${outcome.error.message}`);
      break;
    case 'interrupted': {
      if (ended.reason === 'shutdown') {
        // Hand the run back to the queue; the next worker resumes it from the checkpoint.
        await runs.transition(
          runId,
          ['running'],
          'queued',
          {},
          {
            type: 'run.requeued',
            message: 'The worker is shutting down; the run goes back to the queue and resumes from its checkpoint.',
            data: { reason: 'worker shutdown', rerunFrom: null },
          },
        );
        await job.moveToDelayed(Date.now() + 1000, token);
        throw new DelayedError();
      }
      if (ended.reason === 'time_limit') {
        await runs.finish(
          runId,
          'failed',
          runFailure('time_limit', `the run exceeded its time limit of ${run.timeLimitMinutes} min`),
          'Run stopped: time limit exceeded.',
        );
      } else {
        await runs.finish(runId, 'cancelled', null, 'Run cancelled.');
      }
      break;
    }
  }
  log.info({ status: outcome.status }, 'run ended');
  return outcome.status;
}
