export {
  ApiClient,
  type ApiClientOptions,
  type ArchiveSubset,
  DEFAULT_FOLLOW_OPTIONS,
  type Download,
  type FollowedEvent,
  type FollowOptions,
  followEvents,
} from '@autolab/api-client';
export { buildProgram, type CliDeps, processIo, runCli } from './cli.js';
export type { CliContext, Io, Tty } from './context.js';
export { ApiError, InterruptedError, ProtocolError, UnreachableError, UsageError } from './errors.js';
export { describeEvent, EventFormatter } from './event-format.js';
export { ExitCode, exitCodeFor } from './exit-codes.js';
export { renderStatusBlock, type StatusBlockOptions } from './watch/status-block.js';
export { initialWatchState, reduceWatch, type WatchAction, type WatchState } from './watch/watch-state.js';
