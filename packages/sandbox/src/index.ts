export { CappedOutput } from './capped-output.js';
export { describeDockerError, isDockerUnreachable } from './docker-errors.js';
export { DockerSandbox, SandboxError } from './docker-sandbox.js';
export { listRunContainers, type ReapDecision, reapSandboxes, removeRunContainers } from './reaper.js';
export { DockerSandboxFactory, type SandboxImages } from './sandbox-factory.js';
export {
  containerSpec,
  DEFAULT_LIMITS,
  LABEL_DEPLOYMENT,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_RUN,
  LABEL_WORKER,
  SANDBOX_UID,
  type SandboxLimits,
  type SandboxRuntime,
} from './sandbox-limits.js';
export { registeredRuntimes } from './sandbox-runtime.js';
export { packFiles, unpackFiles } from './workspace-tar.js';
