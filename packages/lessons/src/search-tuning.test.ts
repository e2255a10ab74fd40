import type { SearchPolicy } from '@autolab/contracts';
import { describe, expect, it } from 'vitest';
import { emptyCounts, type SearchCounts, TUNABLE_FIELDS, tuneSearch } from './search-tuning.js';

const REQUEST: SearchPolicy = { numDrafts: 2, debugProb: 0.5, maxDebugDepth: 3, nodeConcurrency: 1 };
const counts = (over: Partial<SearchCounts>): SearchCounts => ({ ...emptyCounts(), runs: 4, ...over });

describe('tuneSearch: the tenant’s statistics set the defaults a request leaves out', () => {
  it('keeps the request defaults, and says why, while the statistics are too thin', () => {
    const { search, tuning } = tuneSearch(REQUEST, TUNABLE_FIELDS, counts({ drafts: 3, draftsWorked: 0 }));
    expect(search).toEqual(REQUEST);
    expect(tuning.map((t) => [t.field, t.tuned])).toEqual([
      ['numDrafts', false],
      ['debugProb', false],
      ['maxDebugDepth', false],
    ]);
    expect(tuning[0]!.reason).toMatch(/3 drafts recorded .* fewer than the 5 needed/);
  });

  it('drafts more when drafts rarely work, fewer when they usually do, within 1–5', () => {
    const rarely = tuneSearch(REQUEST, ['numDrafts'], counts({ drafts: 10, draftsWorked: 2 }));
    // p = 3/12 = 0.25: ⌈ln 0.25 / ln 0.75⌉ = 5.
    expect(rarely.search.numDrafts).toBe(5);
    expect(rarely.tuning[0]!.reason).toMatch(/2 of 10 drafts worked \(rate 25 %\)/);
    expect(tuneSearch(REQUEST, ['numDrafts'], counts({ drafts: 20, draftsWorked: 19 })).search.numDrafts).toBe(1);
    expect(tuneSearch(REQUEST, ['numDrafts'], counts({ drafts: 30, draftsWorked: 0 })).search.numDrafts).toBe(5);
  });

  it('debugs as often as debugging fixes, and as deep as 90 % of the fixes went', () => {
    const stats = counts({ debugs: { 1: 10, 2: 4, 3: 2 }, debugsFixed: { 1: 7, 2: 1, 3: 0 } });
    const { search, tuning } = tuneSearch(REQUEST, ['debugProb', 'maxDebugDepth'], stats);
    // 8 of 16 fixed: (8 + 1) / (16 + 2) = 0.5; 7 of the 8 fixes at depth 1 (87.5 %), all 8 by depth 2.
    expect(search.debugProb).toBe(0.5);
    expect(search.maxDebugDepth).toBe(2);
    expect(tuning.every((t) => t.tuned)).toBe(true);
    const never = tuneSearch(REQUEST, ['debugProb', 'maxDebugDepth'], counts({ debugs: { 1: 12 }, debugsFixed: {} }));
    expect(never.search).toMatchObject({ debugProb: 0.1, maxDebugDepth: 1 });
  });

  it('never touches a field the request set', () => {
    const stats = counts({ drafts: 50, draftsWorked: 50, debugs: { 1: 50 }, debugsFixed: { 1: 50 } });
    const { search, tuning } = tuneSearch({ ...REQUEST, numDrafts: 7 }, ['debugProb'], stats);
    expect(search.numDrafts).toBe(7);
    expect(search.maxDebugDepth).toBe(3);
    expect(search.debugProb).toBe(0.9);
    expect(tuning.map((t) => t.field)).toEqual(['debugProb']);
  });
});
