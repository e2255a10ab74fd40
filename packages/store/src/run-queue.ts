import type { RerunStage } from '@autolab/contracts';
import { Queue, type QueueOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

/** The queue that hands runs to workers. One job per run; the job id is the run id. */
export const RUN_QUEUE_NAME = 'runs';

export interface RunJobData {
  runId: string;
  /** Set for a rerun: the stage the run starts again from (the worker keeps what came before). */
  rerunFrom?: RerunStage;
}

export function createRunQueue(connection: Redis, keys: RedisKeys): Queue<RunJobData> {
  const options: QueueOptions = {
    connection,
    prefix: keys.queuePrefix(),
    defaultJobOptions: {
      // The engine turns its own failures into a failed run; a job only "fails" for infrastructure reasons,
      // and then it is not retried blindly. Stalled jobs (dead workers) are re-delivered by BullMQ regardless.
      attempts: 1,
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  };
  return new Queue<RunJobData>(RUN_QUEUE_NAME, options);
}

export async function enqueueRun(queue: Queue<RunJobData>, runId: string): Promise<void> {
  await queue.add('research', { runId }, { jobId: runId });
}

/** A rerun is a new job of the same run; its id (`<run id>.rerun-<n>`, from RunStore.requeueForRerun) is unique. */
export async function enqueueRerun(
  queue: Queue<RunJobData>,
  runId: string,
  jobId: string,
  rerunFrom: RerunStage,
): Promise<void> {
  await queue.add('research', { runId, rerunFrom }, { jobId });
}
