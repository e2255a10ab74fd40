import { describe, expect, it } from 'vitest';
import { authHeaders, keyFromFragment } from './auth.js';

describe('auth helpers', () => {
  it('takes the key out of the fragment and keeps the rest', () => {
    expect(keyFromFragment('#key=abc123')).toEqual({ key: 'abc123', rest: '' });
    expect(keyFromFragment('#node=n002&key=k%2Fx')).toEqual({ key: 'k/x', rest: '#node=n002' });
    expect(keyFromFragment('')).toEqual({ key: null, rest: '' });
    expect(keyFromFragment('#key=')).toEqual({ key: null, rest: '' });
  });

  it('sends a bearer token only when there is a key', () => {
    expect(authHeaders('k')).toEqual({ authorization: 'Bearer k' });
    expect(authHeaders('')).toEqual({});
  });
});
