import { createPatch } from 'diff';
import { describe, expect, it } from 'vitest';
import { codeDiff, parsedDiff } from './code-diff.js';

describe('code diff against the parent', () => {
  it('numbers the lines of both sides and counts the changes', () => {
    const parent = 'import numpy as np\nlr = 0.1\nsteps = 300\nprint(lr)\n';
    const child = 'import numpy as np\nlr = 0.01\nsteps = 300\nprint(lr)\nprint(steps)\n';
    const diff = codeDiff(parent, child, 1);
    expect(diff.added).toBe(2);
    expect(diff.removed).toBe(1);
    expect(diff.hunks.map((h) => h.header)).toEqual(['@@ -1,4 +1,5 @@']);
    expect(diff.hunks[0]!.lines).toEqual([
      { kind: 'same', oldNo: 1, newNo: 1, text: 'import numpy as np' },
      { kind: 'del', oldNo: 2, newNo: null, text: 'lr = 0.1' },
      { kind: 'add', oldNo: null, newNo: 2, text: 'lr = 0.01' },
      { kind: 'same', oldNo: 3, newNo: 3, text: 'steps = 300' },
      { kind: 'same', oldNo: 4, newNo: 4, text: 'print(lr)' },
      { kind: 'add', oldNo: null, newNo: 5, text: 'print(steps)' },
    ]);
  });

  it('has no hunks for the same code, and ignores a missing final newline', () => {
    expect(codeDiff('a\nb\n', 'a\nb\n')).toEqual({ hunks: [], added: 0, removed: 0 });
    const diff = codeDiff('a\nb', 'a\nc');
    expect(diff.hunks[0]!.lines.map((l) => `${l.kind}:${l.text}`)).toEqual(['same:a', 'del:b', 'add:c']);
  });
});

describe('a stored unified diff', () => {
  it('reads into the same hunks as a diff of the two texts', () => {
    const parent = 'a\nb\nc\nd\n';
    const child = 'a\nB\nc\nd\ne\n';
    const text = createPatch('program.py', parent, child);
    expect(parsedDiff(text)).toEqual(codeDiff(parent, child));
    expect(parsedDiff('')).toEqual({ hunks: [], added: 0, removed: 0 });
  });
});
