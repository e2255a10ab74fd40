import { type DockerClient, registeredRuntimes, type SandboxRuntime } from '@autolab/sandbox';
import type { Logger } from 'pino';
import type { WorkerConfig } from './env.js';

/** A ping that takes longer counts as Docker being unreachable. */
export const DOCKER_PING_TIMEOUT_MS = 3000;

/**
 * A worker configured for gVisor refuses to start on an engine without it, rather than fail every run. An engine
 * that cannot be reached at all is not decided here: the runs' own Docker handling deals with that.
 */
export async function checkSandboxRuntime(docker: DockerClient, runtime: SandboxRuntime, log: Logger): Promise<void> {
  // Pings are not retried: a worker started without Docker must not wait out the retry window here.
  if (
    !(await docker.ping().then(
      () => true,
      () => false,
    ))
  )
    return;
  const available = await registeredRuntimes(docker).catch(() => null);
  if (available === null) return;
  if (!available.includes(runtime)) {
    throw new Error(
      `AUTOLAB_SANDBOX_RUNTIME=${runtime}, but the Docker engine has no runtime "${runtime}" registered ` +
        '(scripts/ensure-services.sh registers gVisor when it starts dockerd; docs/security.md says how to by hand)',
    );
  }
  log.info({ runtime }, 'sandbox runtime');
}

/**
 * Says at start-up which configured sandbox images the engine does not have (there is no registry to pull from): runs
 * naming one would fail with sandbox_error. Not fatal: the image may be loaded later, and other runs are unaffected.
 */
export async function checkSandboxImages(
  docker: DockerClient,
  images: WorkerConfig['sandboxImages'],
  log: Logger,
): Promise<void> {
  // Without Docker right now there is nothing to check (and no call here may wait out the retry window).
  if (!(await docker.reachable(DOCKER_PING_TIMEOUT_MS))) return;
  for (const image of images) {
    const present = await docker
      .getImage(image.tag)
      .inspect()
      .then(
        () => true,
        (err: { statusCode?: number }) => err.statusCode !== 404,
      );
    if (!present) log.warn({ image: image.name, tag: image.tag }, 'sandbox image missing on the Docker engine');
  }
}
