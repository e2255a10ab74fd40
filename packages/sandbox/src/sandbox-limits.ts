import { readFileSync } from 'node:fs';
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

/** uid of every process in the container, the supervisor (PID 1) included. */
export const SANDBOX_UID = 1000;
/** The signal that makes the supervisor (PID 1) end every other process of the container. */
export const KILL_ALL_SIGNAL = 'SIGUSR1';
/**
 * The container's PID 1, the supervisor (supervisor.py, passed as `python3 -c`: nothing from the host is mounted).
 * It runs experiments for the worker over the container's attached stdin/stdout (`SupervisorChannel`), so an
 * experiment costs no `docker exec`. On SIGUSR1 it sends SIGKILL to every other process of the container with one
 * system call, so the worker can end a fork bomb with one Docker API call (`kill`) and no new process in the
 * container. As PID 1 of its pid namespace it cannot be killed from inside (the kernel drops SIGKILL and unhandled
 * signals sent to a namespace's init by its own processes), it makes itself non-dumpable so that programs of the same
 * uid cannot ptrace it or open its /proc entries, and it reaps the orphans it adopts, so their pids are freed.
 */
const SUPERVISOR_SOURCE = readFileSync(new URL('./supervisor.py', import.meta.url), 'utf8');

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
    Cmd: ['python3', '-c', SUPERVISOR_SOURCE],
    User: `${SANDBOX_UID}:${SANDBOX_UID}`,
    // The supervisor's end of the worker's attach stream (frames in; its stdout carries frames out).
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
