export { type ArchiveSubset, archiveStream } from './artifact-archive.js';
export { type ArtifactStore, InvalidArtifactPathError, LocalArtifactStore, mediaTypeOf } from './artifact-store.js';
export { CancelSignal } from './cancel-signal.js';
export { EventHub } from './event-hub.js';
export { RedisKeys } from './redis-keys.js';
export { newRunId } from './run-id.js';
export { createRunQueue, enqueueRun, RUN_QUEUE_NAME, type RunJobData } from './run-queue.js';
export {
  type CreateRunResult,
  compareStreamIds,
  IdempotencyConflictError,
  parseEvent,
  RunStore,
  RunSupersededError,
  type StoredRun,
  serializeEvent,
} from './run-store.js';
export { type WorkerHeartbeat, WorkerRegistry } from './worker-registry.js';
