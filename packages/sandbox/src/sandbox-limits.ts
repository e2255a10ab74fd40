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

/**
 * The OCI runtime that runs sandbox containers: `runc` (Linux namespaces and cgroups) or `runsc` (gVisor, a
 * user-space kernel between the program and the host's; it must be registered with the Docker engine).
 */
export type SandboxRuntime = 'runc' | 'runsc';

/** uid of every process in the container, the keeper (PID 1) included. */
export const SANDBOX_UID = 1000;
/** The signal that makes the keeper end every other process of the container. */
export const KILL_ALL_SIGNAL = 'SIGUSR1';
/**
 * The container's PID 1: a bash loop that blocks in `read` on a stdin nothing writes to, and on SIGUSR1 sends SIGKILL
 * to every process it may signal (every process of the container but itself). It uses only bash builtins, so it works
 * when a fork bomb has taken every pid, and the worker triggers it with one Docker API call (`kill`) instead of a new
 * process in the container. As PID 1 of its pid namespace it cannot be killed from inside (the kernel drops SIGKILL
 * and unhandled signals sent to a namespace's init by its own processes), and it reaps the orphans it adopts, so
 * their pids are freed.
 */
const KEEPER_SCRIPT = `trap 'kill -KILL -1' USR1; while :; do read -r _; done`;

/** Host pids the gVisor kernel needs besides the program's (see `containerSpec`). */
const RUNSC_PIDS_HEADROOM = 256;

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
/**
 * Set on a container a worker's warm pool started before any run asked for it (`WarmPool`): its run label is empty
 * and stays so (Docker cannot change labels); the run that takes it renames it to `autolab-<runId>-<role>-<hex>`.
 */
export const LABEL_POOL = 'autolab.pool';

export interface ContainerIdentity {
  deployment: string;
  runId: string;
  attempt: number;
  role: string;
  workerId: string;
  /** Started by the warm pool, for no run yet (`runId` is empty). */
  pooled?: boolean;
}

/**
 * The locked-down container: no network, read-only root, size-capped tmpfs for /workspace and /tmp, no capabilities,
 * no privilege escalation, pid/memory/cpu limits, no mounts from the host, no environment from the worker.
 */
export function containerSpec(
  image: string,
  limits: SandboxLimits,
  id: ContainerIdentity,
  runtime: SandboxRuntime = 'runc',
  /** Read-only volumes of the user's inputs; nothing from the host is ever mounted. */
  mounts: Docker.MountSettings[] = [],
): Docker.ContainerCreateOptions {
  const mb = 1024 * 1024;
  const tmpfs = (sizeMb: number) => `rw,nosuid,nodev,size=${sizeMb}m,uid=${SANDBOX_UID},gid=${SANDBOX_UID},mode=0755`;
  return {
    Image: image,
    Cmd: ['bash', '-c', KEEPER_SCRIPT],
    User: `${SANDBOX_UID}:${SANDBOX_UID}`,
    // An open stdin that nothing writes to: the keeper's `read` blocks on it.
    OpenStdin: true,
    StdinOnce: false,
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
      ...(id.pooled ? { [LABEL_POOL]: 'true' } : {}),
    },
    HostConfig: {
      NetworkMode: 'none',
      ReadonlyRootfs: true,
      Tmpfs: { '/workspace': tmpfs(limits.workspaceMb), '/tmp': tmpfs(limits.tmpMb) },
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      Privileged: false,
      // Under gVisor the host cgroup counts the user-space kernel's own threads (dozens, and growing with use), not
      // the program's processes; it needs that much room on top, or it cannot start.
      PidsLimit: runtime === 'runsc' ? limits.pidsLimit + RUNSC_PIDS_HEADROOM : limits.pidsLimit,
      Memory: limits.memoryMb * mb,
      MemorySwap: limits.memoryMb * mb,
      NanoCpus: Math.round(limits.cpus * 1e9),
      Ulimits: [{ Name: 'nofile', Soft: 1024, Hard: 1024 }],
      IpcMode: 'private',
      Init: false,
      Runtime: runtime,
      Binds: [],
      Mounts: mounts.map((m) => ({ ...m, ReadOnly: true })),
      AutoRemove: false,
    },
  };
}
