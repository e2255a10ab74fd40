/**
 * The one client of the Autolab API, for the CLI and the dashboard: requests (`ApiClient`), the errors they end in
 * (errors.ts), following a run's events through drops (follow-events.ts) and Server-Sent Events
 * (`@autolab/api-client/sse`). Everything here runs in a browser as well as in Node:
 * this package's tsconfig has no Node types, so a Node-only import does not compile.
 */
export {
  ApiClient,
  type ApiClientOptions,
  type ArchiveSubset,
  type ArtifactList,
  type CreatedUpload,
  type Download,
  type EventPageAsSent,
  type UploadBody,
} from './api-client.js';
export { ApiError, networkReason, ProtocolError, retryAfterSeconds, toApiError, UnreachableError } from './errors.js';
export {
  DEFAULT_FOLLOW_OPTIONS,
  type FollowedEvent,
  type FollowOptions,
  followEvents,
  type ReconnectInfo,
} from './follow-events.js';
export type { components, paths } from './schema.js';
export { createTypedClient, type TypedClient, type TypedClientOptions } from './typed-client.js';
