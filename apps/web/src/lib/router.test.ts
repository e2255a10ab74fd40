import { describe, expect, it } from 'vitest';
import { comparePath, parseRoute } from './router.js';

describe('parseRoute', () => {
  it('knows the dashboard paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'runs' });
    expect(parseRoute('/runs/')).toEqual({ name: 'runs' });
    expect(parseRoute('/new')).toEqual({ name: 'new' });
    expect(parseRoute('/runs/run_01abc')).toEqual({ name: 'run', id: 'run_01abc' });
    expect(parseRoute('/runs/a/b')).toEqual({ name: 'missing' });
    expect(parseRoute('/lessons/')).toEqual({ name: 'lessons' });
    expect(parseRoute('/lessons/les_01abc')).toEqual({ name: 'lesson', id: 'les_01abc' });
    expect(parseRoute('/lessons/a/b')).toEqual({ name: 'missing' });
    expect(parseRoute('/elsewhere')).toEqual({ name: 'missing' });
  });

  it('reads the runs to compare from the query, once each, valid ids only', () => {
    expect(parseRoute('/compare', '?ids=run_a,run_b')).toEqual({ name: 'compare', ids: ['run_a', 'run_b'] });
    expect(parseRoute('/compare', '?ids=run_a,,run_a,../x,run_c')).toEqual({
      name: 'compare',
      ids: ['run_a', 'run_c'],
    });
    expect(parseRoute('/compare', '')).toEqual({ name: 'compare', ids: [] });
    expect(parseRoute('/compare', `?ids=${'r,'.repeat(10)}`).name).toBe('compare');
    expect(comparePath(['run_a', 'run_b'])).toBe('/compare?ids=run_a,run_b');
    const { pathname, search } = new URL(comparePath(['run_a', 'run_b']), 'http://x');
    expect(parseRoute(pathname, search)).toEqual({ name: 'compare', ids: ['run_a', 'run_b'] });
  });
});
