import type { Sandbox, SandboxFactory, SandboxKind } from '@autolab/engine';
import type { DockerClient } from './docker-client.js';
import { DockerSandbox } from './docker-sandbox.js';
import { InputVolumes, type SandboxInput } from './input-volumes.js';
import { RecoveringSandbox, unavailableCause } from './recovering-sandbox.js';
import { type ContainerIdentity, DEFAULT_LIMITS, type SandboxLimits, type SandboxRuntime } from './sandbox-limits.js';
import type { WarmPool } from './warm-pool.js';

export interface SandboxImages {
  /**
   * The built-in image: the grading sandbox and the engine's scripts over the inputs run in it (and the experiments,
   * unless `experiments` says otherwise).
   */
  python: string;
  latex: string;
  /** The image the run's experiments (python sandboxes) run in, when the run picked another one (`sandbox.image`). */
  experiments?: string;
}

/**
 * Opens the sandboxes of one run; every container it opens carries the run's labels. Sandboxes wait out short Docker
 * outages (see `RecoveringSandbox`).
 */
export class DockerSandboxFactory implements SandboxFactory {
  private readonly open_: Set<Sandbox> = new Set();
  private readonly inputs: InputVolumes | null;
  private readonly grading: InputVolumes | null;

  constructor(
    private readonly docker: DockerClient,
    private readonly images: SandboxImages,
    private readonly identity: Omit<ContainerIdentity, 'role'>,
    private readonly limits: Partial<SandboxLimits> = {},
    /** `runsc`: gVisor (see docs/security.md). */
    private readonly runtime: SandboxRuntime = 'runc',
    /** The user's files, read-only at /workspace/input/<name>/ in every experiment (python) sandbox. */
    inputs: SandboxInput[] = [],
    /**
     * The held-out test (`hidden/`, `grader/`), read-only at /workspace/input/ in the grading sandbox only: a volume of
     * its own, never mounted where experiment code runs.
     */
    grading: SandboxInput[] = [],
    /** The worker's warm sandboxes: an experiment sandbox without input mounts is taken from it when one is ready. */
    private readonly warm: WarmPool | null = null,
  ) {
    this.inputs = inputs.length > 0 ? new InputVolumes(docker, images.python, inputs, identity) : null;
    this.grading = grading.length > 0 ? new InputVolumes(docker, images.python, grading, identity) : null;
  }

  async open(kind: SandboxKind): Promise<Sandbox> {
    // The latex sandbox compiles a document; it never needs the experiment's cpu or memory allowance.
    const limits: SandboxLimits =
      kind === 'latex'
        ? { ...DEFAULT_LIMITS, memoryMb: 1024, cpus: 1, workspaceMb: 256 }
        : { ...DEFAULT_LIMITS, ...this.limits };
    const volumes = kind === 'python' || kind === 'reader' ? this.inputs : kind === 'grader' ? this.grading : null;
    const mounts = volumes ? await volumes.mountsFor() : [];
    const image =
      kind === 'latex'
        ? this.images.latex
        : kind === 'python'
          ? (this.images.experiments ?? this.images.python)
          : this.images.python;
    const identity = { ...this.identity, role: kind };
    // Pooled containers have no mounts (they exist before any run's inputs do): only a run without inputs can use one.
    const pooled =
      kind === 'python' && mounts.length === 0 && this.warm ? await this.warm.take(image, limits, identity) : null;
    const container =
      pooled ??
      (await DockerSandbox.create(this.docker, image, limits, identity, this.runtime, mounts).catch((err: unknown) => {
        throw unavailableCause(err) ?? err;
      }));
    const sandbox = new RecoveringSandbox(container, this.docker);
    this.open_.add(sandbox);
    const close = sandbox.close.bind(sandbox);
    sandbox.close = async () => {
      this.open_.delete(sandbox);
      await close();
    };
    return sandbox;
  }

  /** Removes every container this factory opened and has not closed yet. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.open_].map((s) => s.close()));
    await Promise.all([this.inputs?.remove(), this.grading?.remove()]);
  }
}
