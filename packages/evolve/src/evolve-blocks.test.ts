import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyDiff,
  applyRewrite,
  EvolveBlockError,
  evolveText,
  type ParsedProgram,
  parseDiffReply,
  parseProgram,
  programDiff,
} from './evolve-blocks.js';

const program = [
  'import numpy as np',
  '',
  '# EVOLVE-BLOCK-START',
  'def pack(n):',
  '    return np.zeros((n, 3))',
  '# EVOLVE-BLOCK-END',
  '',
  'def run():',
  '    return pack(26)',
  '',
].join('\n');

const fixedOf = (parsed: ParsedProgram): string[] =>
  parsed.segments.filter((s) => s.kind === 'fixed').map((s) => s.text);
const blocksOf = (source: string): string[] =>
  parseProgram(source)
    .segments.filter((s) => s.kind === 'evolve')
    .map((s) => s.text);

describe('parseProgram', () => {
  it('splits a marked program into fixed and evolve segments that join back to the source', () => {
    const parsed = parseProgram(program);
    expect(parsed.marked).toBe(true);
    expect(parsed.segments).toEqual([
      { kind: 'fixed', text: 'import numpy as np\n\n# EVOLVE-BLOCK-START\n' },
      { kind: 'evolve', text: 'def pack(n):\n    return np.zeros((n, 3))\n' },
      { kind: 'fixed', text: '# EVOLVE-BLOCK-END\n\ndef run():\n    return pack(26)\n' },
    ]);
    expect(parsed.segments.map((s) => s.text).join('')).toBe(program);
  });

  it('treats an unmarked file as one evolve block', () => {
    expect(parseProgram('x = 1\ny = 2\n')).toEqual({
      segments: [{ kind: 'evolve', text: 'x = 1\ny = 2\n' }],
      marked: false,
    });
  });

  it('accepts every comment leader, indentation and text after the marker', () => {
    for (const leader of ['#', '//', '--', '%', ';']) {
      const source = `a\n  ${leader} EVOLVE-BLOCK-START: the heuristic\nb\n${leader}EVOLVE-BLOCK-END\nc`;
      expect(blocksOf(source)).toEqual(['b\n']);
    }
  });

  it('does not take a marker word inside code for a marker', () => {
    expect(parseProgram('print("# EVOLVE-BLOCK-START")\n').marked).toBe(false);
  });

  it('keeps several blocks, empty ones included, and Windows line endings', () => {
    const source =
      '#EVOLVE-BLOCK-START\r\n#EVOLVE-BLOCK-END\r\nmid\r\n# EVOLVE-BLOCK-START\r\nx\r\n# EVOLVE-BLOCK-END\r\n';
    expect(blocksOf(source)).toEqual(['', 'x\r\n']);
    expect(
      parseProgram(source)
        .segments.map((s) => s.text)
        .join(''),
    ).toBe(source);
  });

  it.each([
    [
      'a\n# EVOLVE-BLOCK-START\nb\n# EVOLVE-BLOCK-START\nc\n# EVOLVE-BLOCK-END\n',
      4,
      /opened on line 2; evolve blocks cannot be nested/,
    ],
    ['a\n# EVOLVE-BLOCK-END\n', 2, /without an EVOLVE-BLOCK-START/],
    ['a\nb\n// EVOLVE-BLOCK-START\nc\n', 3, /never closed/],
  ])('refuses broken markers with the line: %j', (source, line, message) => {
    const error = (() => {
      try {
        parseProgram(source);
      } catch (err) {
        return err;
      }
    })();
    expect(error).toBeInstanceOf(EvolveBlockError);
    expect((error as EvolveBlockError).line).toBe(line);
    expect((error as EvolveBlockError).message).toMatch(new RegExp(`^line ${line}: `));
    expect((error as EvolveBlockError).message).toMatch(message);
  });

  it('evolveText joins the blocks', () => {
    expect(evolveText(program)).toBe('def pack(n):\n    return np.zeros((n, 3))\n');
  });
});

describe('applyDiff', () => {
  it('applies edits in order inside the block and leaves fixed code alone', () => {
    const result = applyDiff(program, [
      { search: 'np.zeros((n, 3))', replace: 'np.ones((n, 3))' },
      { search: 'np.ones', replace: 'np.full' },
    ]);
    expect(result).toEqual({ ok: true, program: program.replace('np.zeros', 'np.full') });
  });

  it('refuses an edit of fixed code, naming why', () => {
    const result = applyDiff(program, [{ search: 'return pack(26)', replace: 'return pack(30)' }]);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toMatch(/edit 1 of 1: .*fixed code/);
  });

  it('refuses an edit that spans a marker', () => {
    const result = applyDiff(program, [{ search: '3))\n# EVOLVE-BLOCK-END', replace: '3))' }]);
    expect(!result.ok && result.error).toMatch(/fixed code .*or spans a marker/);
  });

  it('applies to the copy inside the block when the same text is also in fixed code', () => {
    const source = 'return 1\n# EVOLVE-BLOCK-START\nreturn 1\n# EVOLVE-BLOCK-END\nreturn 1\n';
    expect(applyDiff(source, [{ search: 'return 1', replace: 'return 2' }])).toEqual({
      ok: true,
      program: 'return 1\n# EVOLVE-BLOCK-START\nreturn 2\n# EVOLVE-BLOCK-END\nreturn 1\n',
    });
  });

  it('refuses an ambiguous, a missing and an empty search', () => {
    const source = '# EVOLVE-BLOCK-START\nx = 1\nx = 1\n# EVOLVE-BLOCK-END\n';
    expect(applyDiff(source, [{ search: 'x = 1', replace: 'x = 2' }])).toMatchObject({
      ok: false,
      error: expect.stringMatching(/occurs 2 times/),
    });
    expect(applyDiff(source, [{ search: 'y = 1', replace: 'y = 2' }])).toMatchObject({
      ok: false,
      error: expect.stringMatching(/does not occur/),
    });
    expect(applyDiff(source, [{ search: '', replace: 'y' }])).toMatchObject({
      ok: false,
      error: /SEARCH text is empty/,
    });
    expect(applyDiff(source, [])).toMatchObject({ ok: false, error: /no SEARCH\/REPLACE/ });
  });

  it('refuses a replacement that adds a marker', () => {
    const result = applyDiff(program, [{ search: 'def pack(n):', replace: '# EVOLVE-BLOCK-END\ndef pack(n):' }]);
    expect(!result.ok && result.error).toMatch(/EVOLVE-BLOCK-START or EVOLVE-BLOCK-END line/);
    expect(applyDiff('x = 1\n', [{ search: 'x = 1', replace: '# EVOLVE-BLOCK-START' }]).ok).toBe(false);
  });

  it('keeps the END marker on its own line when an edit removes the block’s last line ending', () => {
    const result = applyDiff(program, [{ search: '    return np.zeros((n, 3))\n', replace: '    return None' }]);
    expect(result.ok && blocksOf(result.program)).toEqual(['def pack(n):\n    return None\n']);
  });

  it('matches whole lines that differ only in trailing whitespace when nothing matches as written', () => {
    const source = '# EVOLVE-BLOCK-START\nx = 1   \ny = 2\n# EVOLVE-BLOCK-END\n';
    expect(applyDiff(source, [{ search: 'x = 1\ny = 2\n', replace: 'x = 3\ny = 4\n' }])).toEqual({
      ok: true,
      program: '# EVOLVE-BLOCK-START\nx = 3\ny = 4\n# EVOLVE-BLOCK-END\n',
    });
    expect(applyDiff(source, [{ search: 'x = 1 \t', replace: 'x = 5' }])).toEqual({
      ok: true,
      program: '# EVOLVE-BLOCK-START\nx = 5\ny = 2\n# EVOLVE-BLOCK-END\n',
    });
    const twice = '# EVOLVE-BLOCK-START\nx = 1 \nx = 1\t\n# EVOLVE-BLOCK-END\n';
    expect(applyDiff(twice, [{ search: 'x = 1', replace: 'x = 2' }])).toMatchObject({
      ok: false,
      error: /occurs 2 times/,
    });
    expect(applyDiff(source, [{ search: '= 1  \n', replace: '= 2' }])).toMatchObject({
      ok: false,
      error: /does not occur/,
    });
  });

  it('matches model edits written with \\n in a file with Windows line endings', () => {
    const source = '# EVOLVE-BLOCK-START\r\na = 1\r\nb = 2\r\n# EVOLVE-BLOCK-END\r\n';
    expect(applyDiff(source, [{ search: 'a = 1\nb = 2', replace: 'a = 3\nb = 4' }])).toEqual({
      ok: true,
      program: '# EVOLVE-BLOCK-START\r\na = 3\r\nb = 4\r\n# EVOLVE-BLOCK-END\r\n',
    });
  });

  it('property: the fixed code is byte-identical after any patch that applies', () => {
    const line = fc.stringMatching(/^[a-z =+()0-9#]{0,12}$/);
    const block = fc.array(line, { maxLength: 5 }).map((lines) => lines.map((l) => `${l}\n`).join(''));
    const source = fc
      .tuple(fc.array(fc.tuple(block, block), { minLength: 1, maxLength: 3 }), block)
      .map(
        ([pairs, tail]) =>
          pairs.map(([fixed, evolve]) => `${fixed}# EVOLVE-BLOCK-START\n${evolve}# EVOLVE-BLOCK-END\n`).join('') + tail,
      );
    fc.assert(
      fc.property(
        source,
        fc.array(fc.record({ search: fc.string({ maxLength: 6 }), replace: fc.string({ maxLength: 12 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        (src, edits) => {
          let before: ParsedProgram;
          try {
            before = parseProgram(src);
          } catch {
            return; // the generated fixed text happened to hold a marker-like line
          }
          const result = applyDiff(src, edits);
          if (!result.ok) return;
          expect(fixedOf(parseProgram(result.program))).toEqual(fixedOf(before));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: a search taken from a block always applies when it is unique there', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.nat(), fc.nat(), (body, from, len) => {
        const src = `head\n# EVOLVE-BLOCK-START\n${body}\n# EVOLVE-BLOCK-END\ntail\n`;
        let parsed: ParsedProgram;
        try {
          parsed = parseProgram(src);
        } catch {
          return;
        }
        if (parsed.segments.length !== 3) return;
        const text = parsed.segments[1]!.text;
        const start = from % text.length;
        const search = text.slice(start, start + 1 + (len % (text.length - start)));
        if (text.indexOf(search) !== text.lastIndexOf(search)) return;
        const result = applyDiff(src, [{ search, replace: search }]);
        expect(result).toEqual({ ok: true, program: src });
      }),
      { numRuns: 300 },
    );
  });
});

describe('applyRewrite', () => {
  it('replaces every block in order', () => {
    const source = 'a\n# EVOLVE-BLOCK-START\nb\n# EVOLVE-BLOCK-END\nc\n# EVOLVE-BLOCK-START\nd\n# EVOLVE-BLOCK-END\n';
    expect(applyRewrite(source, ['B1\nB2\n', 'D'])).toEqual({
      ok: true,
      program: 'a\n# EVOLVE-BLOCK-START\nB1\nB2\n# EVOLVE-BLOCK-END\nc\n# EVOLVE-BLOCK-START\nD\n# EVOLVE-BLOCK-END\n',
    });
  });

  it('refuses a wrong number of blocks and a block that holds a marker', () => {
    expect(applyRewrite(program, ['a', 'b'])).toEqual({
      ok: false,
      error: 'the rewrite has 2 blocks but the program has 1 evolve block',
    });
    expect(applyRewrite(program, ['x\n// EVOLVE-BLOCK-START\ny\n']).ok).toBe(false);
  });

  it('rewrites an unmarked file whole', () => {
    expect(applyRewrite('old\n', ['new'])).toEqual({ ok: true, program: 'new' });
  });

  it('property: rewriting with the parsed blocks gives the source back, and parsing a rewrite gives its blocks', () => {
    const line = fc.stringMatching(/^[a-z =]{0,10}$/);
    const block = fc.array(line, { maxLength: 4 }).map((lines) => lines.map((l) => `${l}\n`).join(''));
    fc.assert(
      fc.property(fc.array(fc.tuple(block, block, block), { minLength: 1, maxLength: 4 }), (parts) => {
        const src = parts
          .map(([fixed, evolve]) => `${fixed}# EVOLVE-BLOCK-START\n${evolve}# EVOLVE-BLOCK-END\n`)
          .join('');
        const blocks = blocksOf(src);
        expect(applyRewrite(src, blocks)).toEqual({ ok: true, program: src });
        const fresh = parts.map(([, , other]) => other);
        const rewritten = applyRewrite(src, fresh);
        expect(rewritten.ok && blocksOf(rewritten.program)).toEqual(fresh);
      }),
    );
  });
});

describe('parseDiffReply', () => {
  it('reads the SEARCH/REPLACE blocks of a reply and ignores the prose and fences around them', () => {
    const reply = [
      'I will vectorise the loop.',
      '```python',
      '<<<<<<< SEARCH',
      'for i in range(n):',
      '    x[i] = i',
      '=======',
      'x = np.arange(n)',
      '>>>>>>> REPLACE',
      '```',
      '<<<<<<< SEARCH',
      'y = 1',
      '=======',
      '>>>>>>> REPLACE',
      '<<<<<<< SEARCH',
      'unfinished',
      '=======',
    ].join('\r\n');
    expect(parseDiffReply(reply)).toEqual([
      { search: 'for i in range(n):\n    x[i] = i', replace: 'x = np.arange(n)' },
      { search: 'y = 1', replace: '' },
    ]);
  });

  it('round-trips into applyDiff', () => {
    const reply = '<<<<<<< SEARCH\n    return np.zeros((n, 3))\n=======\n    return np.ones((n, 3))\n>>>>>>> REPLACE\n';
    expect(applyDiff(program, parseDiffReply(reply))).toEqual({
      ok: true,
      program: program.replace('zeros', 'ones'),
    });
  });
});

describe('programDiff', () => {
  it('is a unified diff naming both programs', () => {
    const diff = programDiff(program, program.replace('zeros', 'ones'), 'initial.py', 'c0007.py');
    expect(diff).toContain('--- initial.py');
    expect(diff).toContain('+++ c0007.py');
    expect(diff).toContain('-    return np.zeros((n, 3))\n+    return np.ones((n, 3))');
  });
});
