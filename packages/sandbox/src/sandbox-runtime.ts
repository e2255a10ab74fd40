import type Docker from 'dockerode';
import type { SandboxRuntime } from './sandbox-limits.js';

/** The sandbox runtimes this Docker engine has registered (`runc` always; `runsc` when gVisor is configured). */
export async function registeredRuntimes(docker: Docker): Promise<SandboxRuntime[]> {
  const info = (await docker.info()) as { Runtimes?: Record<string, unknown> };
  const names = Object.keys(info.Runtimes ?? {});
  return (['runc', 'runsc'] as const).filter((name) => name === 'runc' || names.includes(name));
}
