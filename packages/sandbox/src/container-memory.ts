import type Docker from 'dockerode';

const MB = 1024 * 1024;

interface OneShotStats {
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  pids_stats?: { current?: number; limit?: number };
}

/** One sample of the container's cgroup counters through the Docker API (no process in the container needed). */
export async function containerStats(container: Docker.Container): Promise<OneShotStats> {
  return (await container.stats({ stream: false, 'one-shot': true })) as unknown as OneShotStats;
}

/**
 * Memory the container uses now, the way `docker stats` counts it (usage less inactive file cache, which the kernel
 * can drop), and its limit. Null when the engine does not say.
 */
export async function memoryInUse(container: Docker.Container): Promise<{ usedMb: number; limitMb: number } | null> {
  const memory = (await containerStats(container)).memory_stats;
  if (!memory?.usage || !memory.limit) return null;
  // cgroup v1 reports total_inactive_file, v2 inactive_file.
  const inactive = memory.stats?.total_inactive_file ?? memory.stats?.inactive_file ?? 0;
  return { usedMb: Math.round((memory.usage - inactive) / MB), limitMb: Math.round(memory.limit / MB) };
}

/** Docker's event timestamps: seconds, a dot and nine digits of nanoseconds. */
const timestamp = (ms: number) => `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, '0')}000000`;

/**
 * How many times the kernel's out-of-memory killer acted in the container since `sinceMs` (the engine's `oom`
 * events), or null when the events cannot be read.
 */
export async function oomKillsSince(docker: Docker, containerId: string, sinceMs: number): Promise<number | null> {
  try {
    const options = {
      since: timestamp(Math.floor(sinceMs)),
      until: timestamp(Date.now()),
      filters: { container: [containerId], event: ['oom'] },
    };
    const stream = await docker.getEvents(options as unknown as Docker.GetEventsOptions);
    let text = '';
    for await (const chunk of stream) text += chunk.toString();
    return text.split('\n').filter((line) => line.includes('"oom"')).length;
  } catch {
    return null;
  }
}
