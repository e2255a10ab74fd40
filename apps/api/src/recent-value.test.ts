import { describe, expect, it } from 'vitest';
import { reuseRecent } from './recent-value.js';

function counter() {
  let t = 0;
  let reads = 0;
  let fail = false;
  return {
    clock: { now: () => t, advance: (ms: number) => (t += ms) },
    read: async () => {
      reads++;
      if (fail) throw new Error('down');
      return reads;
    },
    reads: () => reads,
    failing: (value: boolean) => (fail = value),
  };
}

describe('reuseRecent', () => {
  it('answers from the last read for reuseMs after that read started, then reads again', async () => {
    const c = counter();
    const get = reuseRecent(c.read, 1000, c.clock.now);
    expect(await get()).toBe(1);
    c.clock.advance(999);
    expect(await get()).toBe(1);
    c.clock.advance(1);
    expect(await get()).toBe(2);
    expect(c.reads()).toBe(2);
  });

  it('shares one read between calls made while it is in flight', async () => {
    const c = counter();
    const get = reuseRecent(c.read, 1000, c.clock.now);
    expect(await Promise.all([get(), get(), get()])).toEqual([1, 1, 1]);
    expect(c.reads()).toBe(1);
  });

  it('never reuses a failure', async () => {
    const c = counter();
    const get = reuseRecent(c.read, 1000, c.clock.now);
    c.failing(true);
    await expect(get()).rejects.toThrow('down');
    c.failing(false);
    expect(await get()).toBe(2);
  });

  it('with reuseMs 0 reads every time', async () => {
    const c = counter();
    const get = reuseRecent(c.read, 0, c.clock.now);
    await get();
    await get();
    expect(c.reads()).toBe(2);
  });
});
