/**
 * Every Redis key Autolab uses, in one place. The prefix lets tests (and several deployments) share one Redis
 * without seeing each other's data.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  run(runId: string): string {
    return `${this.prefix}:run:${runId}`;
  }
  events(runId: string): string {
    return `${this.prefix}:run:${runId}:events`;
  }
  checkpoint(runId: string): string {
    return `${this.prefix}:run:${runId}:checkpoint`;
  }
  /** Sorted set of run ids, all score 0, so lexicographic order = creation order (ids are time-sortable). */
  runIndex(): string {
    return `${this.prefix}:runs`;
  }
  idempotency(key: string): string {
    return `${this.prefix}:idempotency:${key}`;
  }
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`;
  }
  workerPattern(): string {
    return `${this.prefix}:worker:*`;
  }
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  /** BullMQ's own key prefix. */
  queuePrefix(): string {
    return `${this.prefix}:bull`;
  }
}
