import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { packFiles, unpackFiles } from './workspace-tar.js';

const LIMITS = { maxFiles: 10, maxFileBytes: 1e6, maxTotalBytes: 1e7 };

describe('unpackFiles', () => {
  it('rejects a tar stream that ends inside an entry (a cut exec), without an uncaught error', async () => {
    const whole = await packFiles([
      { path: 'results.json', content: Buffer.from('{"a": 1}') },
      { path: 'big.bin', content: Buffer.alloc(200_000, 7) },
    ]);
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await expect(unpackFiles(Readable.from([whole.subarray(0, 100_000)]), LIMITS)).rejects.toThrow(/end of data/i);
      // Also when the entry being cut is one that is skipped (over the file limit).
      const small = { ...LIMITS, maxFileBytes: 1000 };
      await expect(unpackFiles(Readable.from([whole.subarray(0, 100_000)]), small)).rejects.toThrow(/end of data/i);
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
  });

  it('reads a whole archive', async () => {
    const whole = await packFiles([{ path: 'results.json', content: Buffer.from('{"a": 1}') }]);
    const { files } = await unpackFiles(Readable.from([whole]), LIMITS);
    expect(files.map((f) => [f.path, f.content.toString()])).toEqual([['results.json', '{"a": 1}']]);
  });
});
