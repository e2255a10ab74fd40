import { describe, expect, it } from 'vitest';
import { fileNameAsWords } from './paths.js';

describe('fileNameAsWords', () => {
  it("reads a file's name as words: last segment, no extension, separators as spaces", () => {
    expect(fileNameAsWords('nodes/n004/files/loss_curves.png')).toBe('loss curves');
    expect(fileNameAsWords('figures/acc-by--seed.PDF')).toBe('acc by seed');
    expect(fileNameAsWords('plot.png')).toBe('plot');
    expect(fileNameAsWords('figures/__.png')).toBe('');
  });
});
