import { describe, expect, it } from 'vitest';
import { bar, SPINNER_FRAMES, truncateToWidth, visibleWidth } from './ansi.js';
import { ProgressLine, renderProgress } from './progress-line.js';

describe('ansi helpers', () => {
  it('measures and cuts lines by what is visible', () => {
    expect(visibleWidth('\x1b[36m██\x1b[39m ab')).toBe(5);
    expect(truncateToWidth('abcdef', 4)).toBe('abc…');
    expect(truncateToWidth('abc', 3)).toBe('abc');
    expect(truncateToWidth('\x1b[31mred text\x1b[39m', 4)).toBe('\x1b[31mred…\x1b[39m');
    expect(truncateToWidth('abc', 0)).toBe('');
  });

  it('counts two columns for wide characters, so a cut line of them fits its width', () => {
    expect(visibleWidth('日本語')).toBe(6);
    expect(visibleWidth('e\u0301')).toBe(1); // a combining accent takes no column
    const cut = truncateToWidth('実験の結果は良好でした', 9);
    expect(visibleWidth(cut)).toBeLessThanOrEqual(9);
    expect(cut.endsWith('…')).toBe(true);
  });

  it('draws bars clamped to their width', () => {
    expect(bar(0.5, 10)).toBe('█████░░░░░');
    expect(bar(2, 4)).toBe('████');
    expect(bar(Number.NaN, 3)).toBe('░░░');
    expect(bar(0.5, 0)).toBe('');
  });
});

describe('renderProgress', () => {
  it('shows bytes of the total, percent and rate when the size is known', () => {
    const line = renderProgress(
      { label: 'paper.pdf', bytes: 512 * 1024, total: 1024 * 1024, elapsedMs: 1000 },
      80,
      false,
    );
    expect(line).toBe(`paper.pdf  ${'█'.repeat(15)}${'░'.repeat(15)}  512.0 KB / 1.0 MB   50%  512.0 KB/s`);
    expect(visibleWidth(line)).toBeLessThan(80);
  });

  it('spins and counts bytes when the size is unknown', () => {
    const line = renderProgress({ label: 'run.tar.gz', bytes: 2048, total: null, elapsedMs: 250 }, 80, false);
    expect(line).toBe(`${SPINNER_FRAMES[2]} run.tar.gz  2.0 KB`);
  });

  it('fits narrow terminals and colours only when asked', () => {
    const snapshot = { label: 'paper.pdf', bytes: 10, total: 100, elapsedMs: 0 };
    expect(renderProgress(snapshot, 30, false)).toBe('paper.pdf  10 B / 100 B   10%');
    expect(renderProgress(snapshot, 20, false)).toBe('paper.pdf  10 B / …');
    expect(renderProgress(snapshot, 80, false)).not.toContain('\x1b');
    expect(renderProgress(snapshot, 80, true)).toContain('\x1b[36m');
  });
});

describe('ProgressLine', () => {
  it('redraws in place at most once per interval, always at completion, and clears itself', () => {
    let now = 0;
    let written = '';
    const line = new ProgressLine({
      write: (text) => {
        written += text;
      },
      columns: () => 60,
      color: false,
      frameIntervalMs: 100,
      now: () => now,
    });
    line.start('f.bin', 1000);
    now = 50;
    line.update(100); // too soon
    now = 120;
    line.update(500);
    now = 130;
    line.update(1000); // complete: drawn anyway
    line.clear();
    const frames = written.split('\r').filter(Boolean);
    expect(frames).toHaveLength(4);
    expect(frames[0]).toMatch(/^f\.bin .* 0 B \/ 1000 B {4}0%\x1b\[K$/);
    expect(frames[1]).toMatch(/500 B \/ 1000 B {3}50%/);
    expect(frames[2]).toMatch(/1000 B \/ 1000 B {2}100%/);
    expect(frames[3]).toBe('\x1b[K');
  });
});
