import { describe, expect, it } from 'vitest';
import { MAX_PREVIEW_CHARS, previewText, startingCodeNode } from './inputs.js';

const listing = (...paths: string[]) => ({ uploadId: 'upl_x', files: paths.map((path) => ({ path, size: 1 })) });

describe('starting code', () => {
  it('runs main.py, run.py, train.py or experiment.py at the top level, or the only .py file', () => {
    expect(startingCodeNode(listing('lib/util.py', 'train.py', 'main.py'))?.entry).toBe('main.py');
    expect(startingCodeNode(listing('README.md', 'model.py'))?.entry).toBe('model.py');
    expect(startingCodeNode(listing('a.py', 'b.py'))).toBeNull();
    expect(startingCodeNode(listing('src/main.py'))).toBeNull();
    const node = startingCodeNode(listing('train.py'))!;
    expect(node.code).toContain('shutil.copytree("/workspace/input/code", ".", dirs_exist_ok=True)');
    expect(node.code).toContain('runpy.run_path("train.py", run_name="__main__")');
  });

  it("runs a template's baseline the same way, named as the template's", () => {
    const node = startingCodeNode({ uploadId: null, template: 'tabular', files: [{ path: 'baseline.py', size: 9 }] })!;
    expect(node.entry).toBe('baseline.py');
    expect(node.plan).toMatch(/^The tabular template's baseline, run as it is \(baseline\.py from/);
    expect(node.code).toContain('runpy.run_path("baseline.py", run_name="__main__")');
  });
});

describe('input preview text', () => {
  it('describes tables, arrays and unreadable files, and stays within its bound', () => {
    const text = previewText({
      data: {
        files: [
          {
            path: 'train.csv',
            size: 2048,
            kind: 'table',
            rows: 100,
            columns: 2,
            dtypes: { x: 'float64', y: 'int64' },
            missing: { x: 3 },
            head: [[1.5, 0]],
          },
          { path: 'x.npy', size: 800, kind: 'array', shape: [10, 10], dtype: 'float64' },
          { path: 'bad.csv', size: 10, kind: 'unreadable', error: 'ParserError: bad' },
        ],
        more: { '.png': 12 },
      },
    });
    expect(text).toContain('/workspace/input/data/ (read-only):');
    expect(text).toContain('train.csv (2.0 kB): table, 100 rows × 2 columns [x:float64, y:int64]; missing values: x=3');
    expect(text).toContain('x.npy (800 B): array [10,10] float64');
    expect(text).toContain('bad.csv (10 B): could not be read (ParserError: bad)');
    expect(text).toContain('and 12 more .png file(s)');
    const many = previewText({
      data: {
        files: Array.from({ length: 500 }, (_, i) => ({
          path: `f${i}.txt`,
          size: 1,
          kind: 'text',
          head: ['x'.repeat(100)],
        })),
        more: {},
      },
    });
    expect(many.length).toBeLessThanOrEqual(MAX_PREVIEW_CHARS);
    expect(many).toContain('preview cut to fit');
  });
});
