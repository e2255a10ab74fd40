import type Docker from 'dockerode';

/**
 * dockerode's connection options for a configured DOCKER_HOST (`undefined`: dockerode's own reading).
 *
 * dockerode reads `process.env.DOCKER_HOST` (and DOCKER_CERT_PATH, DOCKER_TLS_VERIFY, SSH_AUTH_SOCK beside it) by
 * itself and puts what it finds under the options it is given: a worker configured with another engine than its
 * process's environment names (an in-process worker of a test, given its own DOCKER_HOST) would silently reach the
 * environment's. So: a setting equal to the environment's, or none, is left to dockerode (TLS and ssh included); a
 * unix socket is given explicitly, with every option the environment could add cleared; any other engine that the
 * environment does not name is refused, rather than reached with half its settings.
 */
export function dockerConnection(dockerHost: string | undefined): Docker.DockerOptions | undefined {
  if (dockerHost === undefined || dockerHost === process.env.DOCKER_HOST) return undefined;
  if (dockerHost.startsWith('unix://')) {
    return {
      socketPath: dockerHost.slice('unix://'.length),
      host: undefined,
      port: undefined,
      protocol: undefined,
      ca: undefined,
      cert: undefined,
      key: undefined,
    };
  }
  throw new Error(
    `DOCKER_HOST=${dockerHost} is not the process environment's (${process.env.DOCKER_HOST ?? 'unset'}): ` +
      'only a unix:// socket can be configured apart from it; set DOCKER_HOST in the environment of the process',
  );
}
