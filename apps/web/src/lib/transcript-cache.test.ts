import { describe, expect, it } from 'vitest';
import { TranscriptCache } from './transcript-cache.js';

const line = (purpose: string) => JSON.stringify({ purpose, prompt: 'p', reply: { content: 'r' } });

/** A transcript store whose file grows by hand, counting the reads. */
function fakeRun(lines: string[]) {
  const reads: string[] = [];
  return {
    reads,
    lines,
    read: async (runId: string) => {
      reads.push(runId);
      await Promise.resolve();
      return lines.join('\n');
    },
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('TranscriptCache', () => {
  it('reads a run once for every view that opens it, and again only when the run made more calls', async () => {
    const run = fakeRun([line('ideas')]);
    const cache = new TranscriptCache({ read: run.read, retryMs: 10_000 });
    let notified = 0;
    cache.subscribe(() => notified++);
    cache.want('r1', 1);
    cache.want('r1', 1);
    await settle();
    expect(run.reads).toEqual(['r1']);
    const ready = cache.get('r1');
    expect(ready.state === 'ready' && ready.calls.map((c) => c.purpose)).toEqual(['ideas']);
    // Opened again (the same number of calls): nothing is read.
    cache.want('r1', 1);
    cache.want('r1', 0);
    await settle();
    expect(run.reads).toHaveLength(1);
    // The run made another call: read again; the old copy stays until the new one is in.
    run.lines.push(line('code'));
    cache.want('r1', 2);
    expect(cache.get('r1').state).toBe('ready');
    await settle();
    expect(run.reads).toHaveLength(2);
    const newer = cache.get('r1');
    expect(newer.state === 'ready' && newer.calls.length).toBe(2);
    expect(notified).toBe(2);
  });

  it('asks for a newer version while a read is under way: one more read after it, not two', async () => {
    const run = fakeRun([line('a')]);
    const cache = new TranscriptCache({ read: run.read, retryMs: 10_000 });
    cache.want('r', 1);
    cache.want('r', 2);
    cache.want('r', 3);
    await settle();
    expect(run.reads).toHaveLength(2);
  });

  it('looks once more, shortly, when the announced calls are not in the file yet, and then stops', async () => {
    const run = fakeRun([line('a')]);
    const cache = new TranscriptCache({ read: run.read, retryMs: 20 });
    cache.want('r', 1);
    await settle();
    cache.want('r', 2);
    await settle();
    expect(run.reads).toHaveLength(2);
    run.lines.push(line('b'));
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(run.reads).toHaveLength(3);
    const state = cache.get('r');
    expect(state.state === 'ready' && state.calls.length).toBe(2);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(run.reads).toHaveLength(3);
  });

  it('keeps a failed first read as an error with its status, and only a few runs', async () => {
    const cache = new TranscriptCache({
      read: async () => {
        throw Object.assign(new Error('not found'), { status: 404 });
      },
      retryMs: 10_000,
      maxRuns: 2,
    });
    cache.want('a', 0);
    await settle();
    expect(cache.get('a')).toEqual({ state: 'error', message: 'not found', status: 404 });
    cache.want('b', 0);
    cache.want('c', 0);
    await settle();
    expect(cache.get('a')).toEqual({ state: 'loading' });
  });
});
