import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './env.js';

describe('worker configuration: the warm sandbox pool', () => {
  it('keeps two warm sandboxes for ten minutes by default; 0 turns the pool off', () => {
    expect(loadWorkerConfig({}).warmPool).toEqual({ size: 2, idleTtlMs: 600_000 });
    expect(
      loadWorkerConfig({ AUTOLAB_SANDBOX_WARM_POOL: '0', AUTOLAB_SANDBOX_WARM_TTL_SECONDS: '0' }).warmPool,
    ).toEqual({ size: 0, idleTtlMs: 0 });
  });

  it.each([
    ['AUTOLAB_SANDBOX_WARM_POOL', '-1'],
    ['AUTOLAB_SANDBOX_WARM_POOL', '65'],
    ['AUTOLAB_SANDBOX_WARM_POOL', '1.5'],
    ['AUTOLAB_SANDBOX_WARM_POOL', 'many'],
    ['AUTOLAB_SANDBOX_WARM_TTL_SECONDS', '-5'],
  ])('refuses %s=%s, naming the setting', (name, value) => {
    expect(() => loadWorkerConfig({ [name]: value })).toThrow(name);
  });
});
