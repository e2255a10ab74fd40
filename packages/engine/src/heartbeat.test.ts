import type { NewEvent } from '@autolab/contracts';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PROGRESS_INTERVAL_MS, StageHeartbeat } from './heartbeat.js';

describe('StageHeartbeat', () => {
  let now: number;
  let sent: NewEvent[];
  const heartbeat = () =>
    new StageHeartbeat({ now: () => now }, async (event) => {
      sent.push(event);
      beat.heard(); // what RunContext.emit does for every event, this one included
    });
  let beat: StageHeartbeat;

  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000_000;
    sent = [];
    beat = heartbeat();
  });
  afterEach(() => {
    beat.stop();
    vi.useRealTimers();
  });

  const advance = async (ms: number) => {
    for (let t = 0; t < ms; t += 1000) {
      now += 1000;
      await vi.advanceTimersByTimeAsync(1000);
    }
  };

  it('says nothing outside a stage, or while events keep coming', async () => {
    beat.start();
    await advance(60_000);
    expect(sent).toEqual([]);
    beat.enterStage('writeup');
    for (let i = 0; i < 6; i++) {
      await advance(10_000);
      beat.heard();
    }
    expect(sent).toEqual([]);
  });

  it('after 15 s of silence names the stage, the step under way and how long it has run; again every 15 s', async () => {
    beat.start();
    beat.enterStage('writeup');
    await advance(5_000);
    let release!: () => void;
    const call = beat.during('write_paper', () => new Promise<void>((resolve) => (release = resolve)));
    await advance(PROGRESS_INTERVAL_MS - 5_000);
    expect(sent.map((e) => e.data)).toEqual([{ stage: 'writeup', step: 'write_paper', elapsedMs: 10_000 }]);
    expect(sent[0]!.message).toBe('writeup: write_paper for 10 s');
    await advance(PROGRESS_INTERVAL_MS);
    expect(sent.map((e) => (e.data as { elapsedMs: number }).elapsedMs)).toEqual([10_000, 25_000]);
    release();
    await call;
    // Back to the stage itself once the step is over.
    await advance(PROGRESS_INTERVAL_MS);
    expect(sent.at(-1)!.data).toMatchObject({ stage: 'writeup', step: 'writeup', elapsedMs: 45_000 });
  });

  it('stops with the run', async () => {
    beat.start();
    beat.enterStage('review');
    beat.stop();
    await advance(60_000);
    expect(sent).toEqual([]);
  });
});
