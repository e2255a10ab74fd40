import stringWidth from 'string-width';
import { describe, expect, it } from 'vitest';
import { formatTable } from './human-format.js';

/** The terminal column at which `needle` starts in `line`. */
const columnOf = (line: string, needle: string) => stringWidth(line.slice(0, line.indexOf(needle)));

describe('formatTable', () => {
  it('pads by display width, so wide (CJK, emoji) cells keep the next columns lined up', () => {
    const lines = formatTable(
      [
        ['run_1', '深層学習の収束', 'ok'],
        ['run_2', 'plain goal', 'failed'],
        ['run_3', '🧪🔬 lab', 'ok'],
      ],
      { header: ['ID', 'GOAL', 'STATUS'] },
    );
    expect(lines[0]).toBe('ID     GOAL            STATUS');
    const statusColumn = columnOf(lines[0]!, 'STATUS');
    expect(columnOf(lines[1]!, 'ok')).toBe(statusColumn);
    expect(columnOf(lines[2]!, 'failed')).toBe(statusColumn);
    expect(columnOf(lines[3]!, 'ok')).toBe(statusColumn);
    expect(lines[1]).toBe('run_1  深層学習の収束  ok');
  });

  it('right-aligns the columns asked for and leaves out the header when none is given', () => {
    const lines = formatTable(
      [
        ['a', '1.5s', 'x'],
        ['bbb', '12m03s', 'y'],
        ['漢字', '0.2s', 'z'],
      ],
      { align: ['left', 'right', 'left'] },
    );
    expect(lines).toEqual(['a       1.5s  x', 'bbb   12m03s  y', '漢字    0.2s  z']);
  });

  it('does not pad the last column, and cuts lines to a display width', () => {
    expect(
      formatTable([
        ['a', 'b'],
        ['ccc', 'd'],
      ]),
    ).toEqual(['a    b', 'ccc  d']);
    const [cut] = formatTable([['id', '説明文がとても長い行です']], { maxWidth: 12 });
    expect(stringWidth(cut!)).toBeLessThanOrEqual(12);
    expect(cut!.endsWith('…')).toBe(true);
  });
});
