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
  /** The engine's checkpoint without its nodes (the "head"; before per-node storage, the whole state). */
  checkpoint(runId: string): string {
    return `${this.prefix}:run:${runId}:checkpoint`;
  }
  /** Hash: node id → the node's JSON, each written once when it finishes (with the head, atomically). */
  checkpointNodes(runId: string): string {
    return `${this.prefix}:run:${runId}:nodes`;
  }
  /** Sorted set of run ids, all score 0, so lexicographic order = creation order (ids are time-sortable). */
  runIndex(): string {
    return `${this.prefix}:runs`;
  }
  /**
   * Sorted set: finished runs whose events and checkpoint are still in Redis, scored by when they finished (epoch
   * ms); the run archiver moves them to the artifact store once their retention has passed.
   */
  finishedRuns(): string {
    return `${this.prefix}:runs:finished`;
  }
  /** Runs of one tenant, like `runIndex()` (tenant names are restricted to `[a-z0-9_-]`). */
  tenantRunIndex(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:runs`;
  }
  /** Set of the tenant's live (queued or running) run ids, kept by the store's Lua scripts. */
  tenantActiveRuns(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:active`;
  }
  /** Hash: lesson id → the lesson's JSON (docs/lessons.md). */
  tenantLessons(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:lessons`;
  }
  /** Incremented on every change of the tenant's lessons: search indexes built from them are cached by it. */
  tenantLessonsVersion(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:lessons:version`;
  }
  /** Hash: the tenant's search counts (drafts, debugs by depth, stages), summed over its finished runs. */
  tenantSearchStats(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:search-stats`;
  }
  /** Set of the run ids whose counts are in `tenantSearchStats` (each is added once). */
  tenantSearchStatsRuns(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:search-stats:runs`;
  }
  /** Hash: lesson id → its embedding by `model` (JSON array), for hybrid retrieval; derived, recomputed when missing. */
  tenantLessonVectors(tenant: string, model: string): string {
    return `${this.prefix}:tenant:${tenant}:lesson-vectors:${model}`;
  }
  /** Set of tenants an admin allowed to read this tenant's lessons (read-only). */
  tenantLessonReaders(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:lessons:readers`;
  }
  /** Set of tenants whose lessons this tenant may read: the reverse of `tenantLessonReaders`. */
  tenantLessonSources(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:lessons:sources`;
  }
  /** Idempotency keys are per tenant: two tenants may use the same key without seeing each other's runs. */
  idempotency(tenant: string, key: string): string {
    return `${this.prefix}:idempotency:${tenant}:${key}`;
  }
  /** Hash of one upload: its tenant and its record (JSON, with the file list). */
  upload(uploadId: string): string {
    return `${this.prefix}:upload:${uploadId}`;
  }
  /** Sorted set of every upload id (all score 0: lexicographic = creation order), for admin listings. */
  uploadIndex(): string {
    return `${this.prefix}:uploads`;
  }
  tenantUploadIndex(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:uploads`;
  }
  /** Bytes held by the tenant's uploads, kept by the upload store's scripts. */
  tenantUploadBytes(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:upload-bytes`;
  }
  hints(runId: string): string {
    return `${this.prefix}:run:${runId}:hints`;
  }
  /** Hash of one API key's record (never the secret). */
  apiKey(keyId: string): string {
    return `${this.prefix}:apikey:${keyId}`;
  }
  /** SHA-256 of a secret → key id; deleted on revoke, so a revoked key stops working at once. */
  apiKeyByHash(hash: string): string {
    return `${this.prefix}:apikey-hash:${hash}`;
  }
  /** Sorted set of key ids (time-sortable ids, all score 0). */
  apiKeyIndex(): string {
    return `${this.prefix}:apikeys`;
  }
  /** Rate-limit state of one API key. */
  rateLimit(keyId: string): string {
    return `${this.prefix}:ratelimit:${keyId}`;
  }
  /** A browser session of the queue dashboard (by SHA-256 of its cookie). */
  adminSession(hash: string): string {
    return `${this.prefix}:admin-session:${hash}`;
  }
  worker(workerId: string): string {
    return `${this.prefix}:worker:${workerId}`;
  }
  /** Set: the ids of workers that announced themselves (their heartbeat keys say which are alive). */
  workerIndex(): string {
    return `${this.prefix}:workers`;
  }
  /** Hash: digest of a model endpoint (base URL + model) → the mode `auto` found working (tools, json, text). */
  modelModes(): string {
    return `${this.prefix}:model-modes`;
  }
  cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  /** This deployment's generated id (`dep_<hex>`), the label that scopes its sandbox containers; never expires. */
  deployment(): string {
    return `${this.prefix}:deployment`;
  }
  /** BullMQ's own key prefix. */
  queuePrefix(): string {
    return `${this.prefix}:bull`;
  }
}
