import type { NewEvent, RunStage } from '@autolab/contracts';
import type { Clock } from './ports.js';

/** After this long without an event, a running stage says what it is doing (`stage.progress`). */
export const PROGRESS_INTERVAL_MS = 15_000;
/** How often the silence is checked: the longest gap a watcher sees is the interval plus this. */
const CHECK_EVERY_MS = 1_000;

/**
 * Keeps a run audible. A stage can go quiet for minutes (a local model writing the paper, a plot, a LaTeX compile,
 * the seed re-runs); a watcher cannot tell that from a dead worker. Whenever no event has gone out for
 * `PROGRESS_INTERVAL_MS`, this sends `stage.progress` naming the stage, the step under way and how long it has run.
 */
export class StageHeartbeat {
  private lastEventAt: number;
  private stage: { name: RunStage; since: number } | null = null;
  private step: { name: string; since: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private sending = false;

  constructor(
    private readonly clock: Clock,
    private readonly send: (event: NewEvent) => Promise<void>,
  ) {
    this.lastEventAt = clock.now();
  }

  /** Any event went out: the silence starts again. */
  heard(): void {
    this.lastEventAt = this.clock.now();
  }

  /** A new stage begins (its `stage.started` is about to go out): the silence is counted from now. */
  enterStage(stage: RunStage): void {
    this.heard();
    this.stage = { name: stage, since: this.clock.now() };
    this.step = null;
  }

  /** Runs `work` as the named step, so a progress event in the meantime says what is under way. */
  async during<T>(name: string, work: () => Promise<T>): Promise<T> {
    const outer = this.step;
    this.step = { name, since: this.clock.now() };
    try {
      return await work();
    } finally {
      this.step = outer;
    }
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.check(), CHECK_EVERY_MS);
    this.timer.unref?.();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.stage = null;
  }

  /** Sends a progress event when the run has been silent long enough; at most one in flight. */
  async check(): Promise<void> {
    const now = this.clock.now();
    if (!this.stage || this.sending || now - this.lastEventAt < PROGRESS_INTERVAL_MS) return;
    const stage = this.stage.name;
    const step = this.step?.name ?? stage;
    const elapsedMs = Math.round(now - (this.step ?? this.stage).since);
    this.sending = true;
    try {
      await this.send({
        type: 'stage.progress',
        message: `${stage}: ${step} for ${Math.round(elapsedMs / 1000)} s`,
        data: { stage, step, elapsedMs },
      });
    } catch {
      // A progress note that cannot be written is not worth failing the run over; the next check tries again.
    } finally {
      this.sending = false;
    }
  }
}
