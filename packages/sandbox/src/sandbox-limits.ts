import type Docker from 'dockerode';

/** Limits of one sandbox container. Everything else about its isolation is fixed (see `containerSpec`). */
export interface SandboxLimits {
  /** CPU cores. @defaultValue 1 */
  cpus: number;
  /** Memory and memory+swap, so no swap. Tmpfs contents count against it. @defaultValue 2048 */
  memoryMb: number;
  /** Processes and threads together. @defaultValue 256 */
  pidsLimit: number;
  /** Size of the writable /workspace tmpfs. @defaultValue 512 */
  workspaceMb: number;
  /** Size of the writable /tmp tmpfs. @defaultValue 256 */
  tmpMb: number;
}

export const DEFAULT_LIMITS: SandboxLimits = { cpus: 1, memoryMb: 2048, pidsLimit: 256, workspaceMb: 512, tmpMb: 256 };

/** uid of experiment processes. The container's own keep-alive process runs as another user (see below). */
export const SANDBOX_UID = 1000;
/**
 * The container's main process runs as `nobody`, so a `kill -KILL -1` issued as the sandbox user ends every process
 * the experiment started (including ones that escaped with setsid) without ending the container.
 */
const KEEPER_USER = '65534:65534';

export const LABEL_MANAGED = 'autolab.managed';
export const LABEL_RUN = 'autolab.run';
export const LABEL_ROLE = 'autolab.role';
export const LABEL_WORKER = 'autolab.worker';
/** Which start of the run (1 = first, more after a resume) opened the container. */
export const LABEL_ATTEMPT = 'autolab.attempt';
/**
 * The deployment a container belongs to: its generated id (`dep_<hex>`, stored in the deployment's Redis), not its
 * key prefix, which two deployments on different Redis servers may share. A reaper only touches its own deployment's.
 */
export const LABEL_DEPLOYMENT = 'autolab.deployment';

export interface ContainerIdentity {
  deployment: string;
  runId: string;
  attempt: number;
  role: string;
  workerId: string;
}

/**
 * The locked-down container: no network, read-only root, size-capped tmpfs for /workspace and /tmp, no capabilities,
 * no privilege escalation, pid/memory/cpu limits, no mounts from the host, no environment from the worker.
 */
export function containerSpec(
  image: string,
  limits: SandboxLimits,
  id: ContainerIdentity,
  /** Read-only volumes of the user's inputs; nothing from the host is ever mounted. */
  mounts: Docker.MountSettings[] = [],
): Docker.ContainerCreateOptions {
  const mb = 1024 * 1024;
  const tmpfs = (sizeMb: number) => `rw,nosuid,nodev,size=${sizeMb}m,uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0755`;
  return {
    Image: image,
    Cmd: ['sleep', 'infinity'],
    User: KEEPER_USER,
    WorkingDir: '/workspace',
    Env: [],
    NetworkDisabled: true,
    Labels: {
      [LABEL_MANAGED]: 'true',
      [LABEL_RUN]: id.runId,
      [LABEL_ATTEMPT]: String(id.attempt),
      [LABEL_ROLE]: id.role,
      [LABEL_WORKER]: id.workerId,
      [LABEL_DEPLOYMENT]: id.deployment,
    },
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/workspace': tmpfs(limits.workspaceMb), '/tmp': tmpfs(limits.tmpMb) },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      PidsLimit: limits.pidsLimit,
      Memory: limits.memoryMb * mb,
      MemorySwap: limits.memoryMb * mb,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      IpcMode: 'private',
      Init: true,
      Binds: [],
      Mounts: mounts.map((m) => ({ ...m, ReadOnly: true })),
      AutoRemove: false,
    },
  };
}
