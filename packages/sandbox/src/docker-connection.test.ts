import { afterEach, describe, expect, it } from 'vitest';
import { DockerClient } from './docker-client.js';
import { dockerConnection } from './docker-connection.js';

/**
 * A worker's DOCKER_HOST comes from its parsed configuration. dockerode reads `process.env.DOCKER_HOST` by itself and
 * puts it under the options it is given, so a worker configured with another engine than its process's environment
 * names (an in-process worker of a test stack, given its own DOCKER_HOST) used the environment's engine.
 */
const saved = process.env.DOCKER_HOST;
afterEach(() => {
  if (saved === undefined) delete process.env.DOCKER_HOST;
  else process.env.DOCKER_HOST = saved;
});

const modemOf = (client: DockerClient) =>
  client.modem as unknown as { socketPath?: unknown; host?: string; protocol?: string };

describe('dockerConnection', () => {
  it('reaches the configured unix socket although the environment names a tcp engine', () => {
    process.env.DOCKER_HOST = 'tcp://10.0.0.1:2375';
    const client = new DockerClient({ connection: dockerConnection('unix:///run/engine-b/docker.sock'), retryMs: 0 });
    expect(modemOf(client)).toMatchObject({
      socketPath: '/run/engine-b/docker.sock',
      host: undefined,
      protocol: 'http',
    });
  });

  it('reaches the configured unix socket although the environment names another socket', () => {
    process.env.DOCKER_HOST = 'unix:///var/run/docker.sock';
    const client = new DockerClient({ connection: dockerConnection('unix:///tmp/b.sock'), retryMs: 0 });
    expect(modemOf(client).socketPath).toBe('/tmp/b.sock');
  });

  it("leaves dockerode's own reading (TLS, ssh) when the setting is the environment's or unset", () => {
    process.env.DOCKER_HOST = 'tcp://10.0.0.1:2376';
    expect(dockerConnection('tcp://10.0.0.1:2376')).toBeUndefined();
    expect(dockerConnection(undefined)).toBeUndefined();
  });

  it('refuses a tcp or ssh engine other than the environment names, rather than reach the wrong one', () => {
    delete process.env.DOCKER_HOST;
    expect(() => dockerConnection('tcp://10.0.0.2:2376')).toThrow(/DOCKER_HOST=tcp:\/\/10\.0\.0\.2:2376/);
  });
});
