export { ApiKeyStore, hashSecret, isUsable, type NewApiKey, randomBase62 } from './api-key-store.js';
export { type ArchiveSubset, archiveStream } from './artifact-archive.js';
export {
  type ArtifactFile,
  type ArtifactStore,
  ArtifactStoreUnavailableError,
  InvalidArtifactPathError,
  LocalArtifactStore,
  mediaTypeOf,
} from './artifact-store.js';
export {
  type ArtifactStoreConfig,
  ArtifactStoreEnv,
  artifactStoreConfig,
  describeArtifactStore,
  openArtifactStore,
  openUploadFileStore,
} from './artifact-store-config.js';
export { CancelSignal } from './cancel-signal.js';
export { deploymentId } from './deployment-identity.js';
export { EventHub } from './event-hub.js';
export {
  HintLimitError,
  HintRunFinishedError,
  HintRunNotFoundError,
  HintStore,
  MAX_HINTS_PER_RUN,
} from './hint-store.js';
export { type LessonEmbeddings, type LessonSearch, LessonStore } from './lesson-store.js';
export { ModelModeStore } from './model-mode-store.js';
export { RateLimiter, type RateLimitHit } from './rate-limiter.js';
export { failFastRedisOptions, isRedisUnavailable, logRedisConnection } from './redis-availability.js';
export { RedisKeys } from './redis-keys.js';
export {
  type ArchivedEvent,
  type ArchivedState,
  openRunArchiveStore,
  readArchivedEvents,
  readArchivedState,
} from './run-archive-files.js';
export { type PreparedArchive, RunArchiver } from './run-archiver.js';
export { newRunId } from './run-id.js';
export { createRunQueue, enqueueRerun, enqueueRun, RUN_QUEUE_NAME, type RunJobData } from './run-queue.js';
export {
  type CreateRunResult,
  compareStreamIds,
  IdempotencyConflictError,
  parseEvent,
  type RerunResult,
  RunArchiveUnavailableError,
  type RunLimits,
  RunStore,
  RunSupersededError,
  type StoredRun,
  serializeEvent,
  TooManyActiveRunsError,
} from './run-store.js';
export { S3ArtifactStore, type S3ArtifactStoreOptions } from './s3-artifact-store.js';
export { SearchStatsStore } from './search-stats-store.js';
export { TrackedReads, type TrackedReadsOptions } from './tracked-reads.js';
export {
  InvalidUploadError,
  type SkippedFile,
  type UploadDraft,
  UploadLimitError,
  type UploadLimits,
  UploadStore,
} from './upload-store.js';
export { ArchiveFormatError, archiveKind } from './upload-unpack.js';
export { type WorkerHeartbeat, WorkerRegistry } from './worker-registry.js';
