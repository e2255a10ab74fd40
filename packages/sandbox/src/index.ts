export { CappedOutput } from './capped-output.js';
export { DockerClient, type DockerClientOptions, isDockerUnavailable } from './docker-client.js';
export { dockerConnection } from './docker-connection.js';
export { describeDockerError, isDockerUnreachable } from './docker-errors.js';
export { DockerSandbox, SandboxError } from './docker-sandbox.js';
export { InputVolumes, type SandboxInput } from './input-volumes.js';
export { listRunContainers, type ReapDecision, reapSandboxes, removeRunContainers } from './reaper.js';
export { RecoveringSandbox } from './recovering-sandbox.js';
export { DockerSandboxFactory, type SandboxImages } from './sandbox-factory.js';
export {
  type ContainerIdentity,
  containerSpec,
  DEFAULT_LIMITS,
  LABEL_ATTEMPT,
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
