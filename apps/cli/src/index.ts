export { ApiClient, type ApiClientOptions, type ArchiveSubset, type Download } from './api-client.js';
export { buildProgram, type CliDeps, runCli } from './cli.js';
export type { CliContext, Io } from './context.js';
export { ApiError, ProtocolError, UnreachableError, UsageError } from './errors.js';
export { DEFAULT_FOLLOW_OPTIONS, type FollowedEvent, type FollowOptions, followEvents } from './event-follower.js';
export { describeEvent, EventFormatter } from './event-format.js';
export { ExitCode, exitCodeFor } from './exit-codes.js';
export { readSse, type SseMessage, SseParser } from './sse.js';
