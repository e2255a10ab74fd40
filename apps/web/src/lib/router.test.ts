import { describe, expect, it } from 'vitest';
import { parseRoute } from './router.js';

describe('parseRoute', () => {
  it('knows the dashboard paths', () => {
    expect(parseRoute('/')).toEqual({ name: 'runs' });
    expect(parseRoute('/runs/')).toEqual({ name: 'runs' });
    expect(parseRoute('/new')).toEqual({ name: 'new' });
    expect(parseRoute('/runs/run_01abc')).toEqual({ name: 'run', id: 'run_01abc' });
    expect(parseRoute('/runs/a/b')).toEqual({ name: 'missing' });
    expect(parseRoute('/elsewhere')).toEqual({ name: 'missing' });
  });
});
