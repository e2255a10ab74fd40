import { describe, expect, it } from 'vitest';
import { parseListing, selectOutputs } from './output-selection.js';

describe('selectOutputs', () => {
  const listing = Buffer.from(
    [
      'd 4096 data',
      'f 10 data/a.txt',
      'f 900 results.json',
      'f 5000 big.bin',
      'l 11 link',
      'f 20 b.txt',
      'f 30 c.txt',
      'f 400 d.txt',
      'f 1 name\nwith newline',
    ].join('\0'),
  );

  it('reads find -printf output with any character in names', () => {
    expect(parseListing(listing)).toContainEqual({ type: 'f', bytes: 1, path: 'name\nwith newline' });
    expect(parseListing(listing)).toHaveLength(9);
  });

  it('keeps results.json first, then the smallest, and says why each other file stays', () => {
    const { include, skipped } = selectOutputs(parseListing(listing), {
      maxFiles: 4,
      maxFileBytes: 1000,
      maxTotalBytes: 1000,
    });
    expect(include).toEqual(['results.json', 'data/a.txt', 'b.txt', 'c.txt']);
    expect(skipped).toEqual([
      { path: 'big.bin', bytes: 5000, reason: 'file_too_large' },
      { path: 'link', bytes: 11, reason: 'not_a_regular_file' },
      { path: 'name\nwith newline', bytes: 1, reason: 'unusable_name' },
      { path: 'd.txt', bytes: 400, reason: 'total_too_large' },
    ]);
  });

  it("keeps AI-Scientist's run_<n>/final_info.json first too", () => {
    const entries = parseListing(
      Buffer.from(['f 1 a.txt', 'f 300 run_0/final_info.json', 'f 2 b.txt', 'f 200 run_0/all_results.npy'].join('\0')),
    );
    const { include } = selectOutputs(entries, { maxFiles: 2, maxFileBytes: 1000, maxTotalBytes: 1000 });
    expect(include).toEqual(['run_0/final_info.json', 'a.txt']);
  });
});
