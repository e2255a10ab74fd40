import type Docker from 'dockerode';
import { LABEL_DEPLOYMENT, LABEL_MANAGED, LABEL_POOL, LABEL_RUN, LABEL_WORKER } from './sandbox-limits.js';

export interface ReapDecision {
  /** True when the run still needs its containers and the worker that owns them is alive. */
  keep(runId: string, workerId: string): Promise<boolean>;
  /**
   * For a container of a worker's warm pool (`LABEL_POOL`; idle, or taken by a run whose id is only in its name):
   * true while the worker that started it is alive and still holds it.
   */
  keepPooled(containerId: string, workerId: string): Promise<boolean>;
}

/** Removes Autolab sandbox containers and input volumes that nothing will use again (crashed workers, finished runs). */
export async function reapSandboxes(docker: Docker, deployment: string, decision: ReapDecision): Promise<string[]> {
  const containers = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_DEPLOYMENT}=${deployment}`] },
  });
  const removed: string[] = [];
  for (const info of containers) {
    const runId = info.Labels[LABEL_RUN] ?? '';
    const workerId = info.Labels[LABEL_WORKER] ?? '';
    const keep =
      info.Labels[LABEL_POOL] === 'true'
        ? await decision.keepPooled(info.Id, workerId)
        : await decision.keep(runId, workerId);
    if (keep) continue;
    await docker
      .getContainer(info.Id)
      .remove({ force: true })
      .then(() => removed.push(info.Id))
      .catch(() => undefined);
  }
  // The runs' input volumes, by the same rule (after the containers: Docker refuses to remove a volume in use).
  const { Volumes } = await docker.listVolumes({
    filters: { label: [`${LABEL_MANAGED}=true`, `${LABEL_DEPLOYMENT}=${deployment}`] },
  });
  for (const volume of Volumes ?? []) {
    const labels = volume.Labels ?? {};
    if (await decision.keep(labels[LABEL_RUN] ?? '', labels[LABEL_WORKER] ?? '')) continue;
    await docker
      .getVolume(volume.Name)
      .remove()
      .then(() => removed.push(volume.Name))
      .catch(() => undefined);
  }
  return removed;
}

/**
 * Removes every container (and input volume) of a run in this deployment. A worker that takes over a run (the previous one died and
 * its job lock expired) calls this first: whatever the dead worker left running must not keep executing.
 */
export async function removeRunContainers(docker: Docker, deployment: string, runId: string): Promise<number> {
  const containers = await runContainers(docker, runId, deployment);
  await Promise.all(
    containers.map((c) =>
      docker
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => undefined),
    ),
  );
  const { Volumes } = await docker.listVolumes({
    filters: { label: [`${LABEL_RUN}=${runId}`, `${LABEL_DEPLOYMENT}=${deployment}`] },
  });
  await Promise.all(
    (Volumes ?? []).map((v) =>
      docker
        .getVolume(v.Name)
        .remove()
        .catch(() => undefined),
    ),
  );
  return containers.length;
}

/** Containers that belong to a run, for tests and diagnostics. */
export async function listRunContainers(docker: Docker, runId: string): Promise<string[]> {
  return (await runContainers(docker, runId)).map((c) => c.Id);
}

/**
 * A run's containers: those started for it (its label) and the warm ones it took from a worker's pool (labelled
 * before any run existed; the run renamed them `autolab-<runId>-…`).
 */
async function runContainers(docker: Docker, runId: string, deployment?: string): Promise<Docker.ContainerInfo[]> {
  const scope = deployment ? [`${LABEL_DEPLOYMENT}=${deployment}`] : [];
  const [labelled, pooled] = await Promise.all([
    docker.listContainers({ all: true, filters: { label: [`${LABEL_RUN}=${runId}`, ...scope] } }),
    docker.listContainers({
      all: true,
      filters: { label: [`${LABEL_POOL}=true`, ...scope], name: [`^/autolab-${escapeRegExp(runId)}-`] },
    }),
  ]);
  return [...labelled, ...pooled.filter((c) => !labelled.some((l) => l.Id === c.Id))];
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
