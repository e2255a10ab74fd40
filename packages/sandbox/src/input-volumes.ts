import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { INPUT_MOUNT, normalizeRelativePath } from '@autolab/contracts';
import type Docker from 'dockerode';
import * as tar from 'tar-stream';
import {
  type ContainerIdentity,
  LABEL_DEPLOYMENT,
  LABEL_MANAGED,
  LABEL_ROLE,
  LABEL_RUN,
  LABEL_WORKER,
} from './sandbox-limits.js';

/** A directory of the user's files that every experiment sandbox of the run sees at `/workspace/input/<name>/`. */
export interface SandboxInput {
  name: string;
  dir: string;
  /**
   * Only these files of `dir` (relative paths): a template's baseline without the template's other files.
   * @defaultValue every regular file under `dir`
   */
  files?: string[];
}

/** Regular files under `dir`, as relative paths (links and anything else are left out: never followed). */
async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (at: string) => {
    for (const name of (await readdir(at)).sort()) {
      const full = join(at, name);
      const info = await lstat(full);
      if (info.isDirectory()) await walk(full);
      else if (info.isFile()) out.push(relative(dir, full).split('\\').join('/'));
    }
  };
  await walk(dir);
  return out;
}

/** A tar stream of the inputs' files under `<name>/`, owned by root, world-readable, streamed file by file. */
function packInputs(inputs: SandboxInput[]): tar.Pack {
  const pack = tar.pack();
  (async () => {
    for (const input of inputs) {
      pack.entry({ name: `${input.name}/`, type: 'directory', mode: 0o755, uid: 0, gid: 0 });
      for (const path of input.files ?? (await listFiles(input.dir))) {
        if (!normalizeRelativePath(path)) continue;
        const full = join(input.dir, path);
        const { size } = await lstat(full);
        const entry = pack.entry({ name: `${input.name}/${path}`, size, mode: 0o644, uid: 0, gid: 0, type: 'file' });
        await pipeline(createReadStream(full), entry);
      }
    }
    pack.finalize();
  })().catch((err: Error) => pack.destroy(err));
  return pack;
}

/**
 * The run's inputs in one Docker volume (`data/`, `code/`), filled once per attempt and mounted read-only at
 * /workspace/input in every experiment sandbox. A volume, not a tmpfs, so that a large dataset does not count against
 * the experiment's memory limit; not a bind mount, so that no host path is ever mounted; mounted at /workspace/input
 * itself, so that the experiment (uid 1000, owner of /workspace) cannot move the directory away and put its own in
 * its place. The files belong to root: the experiment reads them and can neither change nor replace them.
 */
export class InputVolumes {
  private volume: string | null = null;
  private filling: Promise<Docker.MountSettings[]> | null = null;

  constructor(
    private readonly docker: Docker,
    private readonly image: string,
    private readonly inputs: SandboxInput[],
    private readonly identity: Omit<ContainerIdentity, 'role'>,
  ) {}

  /** The mount for an experiment container; the volume is created and filled on the first call. */
  mountsFor(): Promise<Docker.MountSettings[]> {
    this.filling ??= this.fill().then((volume) => [
      { Type: 'volume', Source: volume, Target: INPUT_MOUNT, ReadOnly: true },
    ]);
    return this.filling;
  }

  private async fill(): Promise<string> {
    const name = `autolab-${this.identity.runId}-input-${randomBytes(3).toString('hex')}`;
    const labels = {
      [LABEL_MANAGED]: 'true',
      [LABEL_RUN]: this.identity.runId,
      [LABEL_DEPLOYMENT]: this.identity.deployment,
      [LABEL_ROLE]: 'input',
      // The reaper treats volumes like containers: kept while their worker is alive and the run is live.
      [LABEL_WORKER]: this.identity.workerId,
    };
    await this.docker.createVolume({ Name: name, Labels: labels });
    this.volume = name;
    // A container that is never started: it only gives the archive endpoint a way into the volume.
    const loader = await this.docker.createContainer({
      Image: this.image,
      Cmd: ['true'],
      Labels: labels,
      NetworkDisabled: true,
      HostConfig: {
        NetworkMode: 'none',
        ReadonlyRootfs: true,
        Mounts: [{ Type: 'volume', Source: name, Target: '/input' }],
      },
    });
    try {
      await loader.putArchive(Readable.from(packInputs(this.inputs)), { path: '/input' });
    } finally {
      await loader.remove({ force: true }).catch(() => undefined);
    }
    return name;
  }

  /** Removes the volume (after the run's containers are gone: a volume in use cannot be removed). */
  async remove(): Promise<void> {
    const name = this.volume;
    this.volume = null;
    this.filling = null;
    if (name)
      await this.docker
        .getVolume(name)
        .remove({ force: true })
        .catch(() => undefined);
  }
}
