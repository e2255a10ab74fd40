import { describe, expect, it } from 'vitest';
import { formatAgo, formatDuration, formatMetric, formatUsd, fraction, tokenNotes } from './format.js';

describe('format', () => {
  it("says the prompt's cached share and whether tokens are estimates", () => {
    expect(tokenNotes({ promptTokens: 30_000, cachedTokens: 12_000, estimatedTokens: 5 })).toEqual([
      '40% of prompt cached',
      'estimated',
    ]);
    expect(tokenNotes({ promptTokens: 30_000, cachedTokens: 0, estimatedTokens: 0 })).toEqual([]);
    // Usage recorded before these fields existed.
    expect(tokenNotes({ promptTokens: 30_000 })).toEqual([]);
  });

  it('formats money, metrics, durations and fractions', () => {
    expect(formatUsd(0)).toBe('$0');
    expect(formatUsd(0.0012)).toBe('$0.0012');
    expect(formatUsd(1.5)).toBe('$1.50');
    expect(formatUsd(null)).toBe('—');
    expect(formatMetric(0.912345)).toBe('0.9123');
    expect(formatMetric(123456)).toBe('1.23e+5');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(3100)).toBe('3.1 s');
    expect(formatDuration(125_000)).toBe('2 min 5 s');
    expect(fraction(3, 6)).toBe(0.5);
    expect(fraction(9, 6)).toBe(1);
    expect(fraction(1, 0)).toBe(0);
  });

  it('says how long ago', () => {
    const now = Date.parse('2024-01-01T12:00:00Z');
    expect(formatAgo('2024-01-01T11:59:50Z', now)).toBe('just now');
    expect(formatAgo('2024-01-01T11:50:00Z', now)).toBe('10 min ago');
    expect(formatAgo('2024-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(formatAgo(null, now)).toBe('—');
  });
});
