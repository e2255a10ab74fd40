import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { emulateTerminal } from '../testing/terminal-emulator.js';
import { composeFrame, LiveScreen, rowsOnScreen } from './live-screen.js';

describe('composeFrame', () => {
  it('draws the first block without moving the cursor', () => {
    expect(composeFrame(0, ['a', 'b'], ['== 1', '== 2'])).toBe('a\nb\n== 1\n== 2');
  });

  it('goes back to the top of the old block, erases it, prints the new lines above the new block', () => {
    expect(composeFrame(3, ['line'], ['x', 'y', 'z'])).toBe('\r\x1b[2A\x1b[Jline\nx\ny\nz');
    expect(composeFrame(1, [], ['only'])).toBe('\r\x1b[Jonly');
  });

  it('counts the rows a block takes after the terminal got narrower', () => {
    expect(rowsOnScreen([79, 79, 10], 80)).toBe(3);
    expect(rowsOnScreen([79, 79, 10], 40)).toBe(5);
    expect(rowsOnScreen([0], 40)).toBe(1);
  });
});

describe('LiveScreen', () => {
  let written: string;
  let now: number;
  let columns: number;
  let renders: number;
  const screen = () =>
    new LiveScreen({
      write: (text) => {
        written += text;
      },
      columns: () => columns,
      render: (width, at) => {
        renders++;
        return [`block ${renders} w${width} t${at}`, 'second line'];
      },
      frameIntervalMs: 100,
      tickMs: 1000,
      now: () => now,
    });

  beforeEach(() => {
    vi.useFakeTimers();
    written = '';
    now = 0;
    columns = 80;
    renders = 0;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('hides the cursor, draws at most once per frame interval, and shows the cursor again on close', () => {
    const live = screen();
    live.start();
    expect(written).toBe('\x1b[?25lblock 1 w80 t0\nsecond line');
    written = '';

    now = 10;
    live.log(['first']);
    live.log(['second', 'third']);
    expect(written).toBe(''); // too soon: coalesced into the next frame
    now = 100;
    vi.advanceTimersByTime(90);
    expect(written).toBe('\r\x1b[1A\x1b[Jfirst\nsecond\nthird\nblock 2 w80 t100\nsecond line');
    expect(renders).toBe(2);

    written = '';
    now = 250;
    live.invalidate(); // the interval has passed: drawn at once
    expect(written).toBe('\r\x1b[1A\x1b[Jblock 3 w80 t250\nsecond line');

    written = '';
    now = 260;
    live.log(['last']);
    live.close(); // the final frame is drawn at once, whatever the interval
    expect(written).toBe('\r\x1b[1A\x1b[Jlast\nblock 4 w80 t260\nsecond line\n\x1b[?25h');
    written = '';
    vi.advanceTimersByTime(5000);
    expect(written).toBe(''); // no timer left behind
    live.log(['after close']);
    expect(written).toBe('after close\n');
  });

  it('redraws every tick without news (the clocks move) and follows the width', () => {
    const live = screen();
    live.start();
    now = 1000;
    columns = 40;
    vi.advanceTimersByTime(1000);
    expect(renders).toBe(2);
    expect(written).toContain('block 2 w40 t1000');
    live.close();
  });

  it('cuts the lines it prints above the block to the terminal width, so none wraps and every redraw erases cleanly', () => {
    const live = screen();
    columns = 24;
    live.start();
    const long = `12:00:01  node.finished  n004 ${'error: '.repeat(20)}`;
    const wide = `12:00:02  note  ${'実験'.repeat(20)}`;
    now = 1000;
    live.log([long, wide, 'short']);
    vi.advanceTimersByTime(1000);
    now = 2000;
    live.invalidate();
    live.close();
    const rows = emulateTerminal(written, columns);
    // Every line logged is one row (the emulator counts code points, so the wide line is checked by width instead).
    expect(rows.slice(0, 3).map((row) => row.length <= columns)).toEqual([true, true, true]);
    expect(rows[0]).toBe('12:00:01  node.finishe…');
    expect(rows[2]).toBe('short');
    expect(rows.filter((row) => row.startsWith('block'))).toHaveLength(1);
    expect(written).not.toContain('error: '.repeat(5));
  });

  it('close before start writes nothing', () => {
    const live = screen();
    live.close();
    expect(written).toBe('');
  });
});

describe('emulateTerminal (the test terminal)', () => {
  it('wraps long lines, and joins them back when asked', () => {
    expect(emulateTerminal('abcdef\nxy', 4)).toEqual(['abcd', 'ef', 'xy']);
    expect(emulateTerminal('abcdef\nxy', 4, { joinWrapped: true })).toEqual(['abcdef', 'xy']);
    expect(emulateTerminal('abcd\nxy\r\x1b[Jz', 4)).toEqual(['abcd', 'z']);
    expect(emulateTerminal('one\ntwo\nthree\r\x1b[1A\x1b[Jnew', 10)).toEqual(['one', 'new']);
  });
});
