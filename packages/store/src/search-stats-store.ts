import { emptyCounts, type SearchCounts } from '@autolab/lessons';
import type { Redis } from 'ioredis';
import type { RedisKeys } from './redis-keys.js';

// Adds one run's counts once: a run recorded again (resumed after the step, or rerun) changes nothing.
const RECORD_SCRIPT = `
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
for i = 2, #ARGV, 2 do redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1]) end
return 1
`;

const MAPS = ['debugs', 'debugsFixed', 'stageNodes', 'stageImproved'] as const;

/** `{debugs: {1: 3}}` → `debugs:1 3`, the flat fields of the Redis hash. */
function flatten(counts: SearchCounts): [string, number][] {
  const fields: [string, number][] = [
    ['runs', counts.runs],
    ['drafts', counts.drafts],
    ['draftsWorked', counts.draftsWorked],
  ];
  for (const map of MAPS) for (const [key, value] of Object.entries(counts[map])) fields.push([`${map}:${key}`, value]);
  return fields.filter(([, value]) => value !== 0);
}

/**
 * What a tenant's finished runs measured about the tree search (how often drafts work, how often a debug at each
 * depth fixes its parent, which stages improved the metric), summed in one Redis hash per tenant; the defaults of
 * runs that leave the search policy out are tuned from it (`tuneSearch`).
 */
export class SearchStatsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
  ) {}

  /** Adds a finished run's counts to its tenant's; once per run. Returns whether they were added. */
  async record(tenant: string, runId: string, counts: SearchCounts): Promise<boolean> {
    const args = flatten({ ...counts, runs: 1 }).flatMap(([field, value]) => [field, String(value)]);
    const added = await this.redis.eval(
      RECORD_SCRIPT,
      2,
      this.keys.tenantSearchStats(tenant),
      this.keys.tenantSearchStatsRuns(tenant),
      runId,
      ...args,
    );
    return added === 1;
  }

  async counts(tenant: string): Promise<SearchCounts> {
    const raw = await this.redis.hgetall(this.keys.tenantSearchStats(tenant));
    const counts = emptyCounts();
    for (const [field, value] of Object.entries(raw)) {
      const n = Number(value);
      const [name, key] = field.split(':') as [string, string | undefined];
      if (key !== undefined && (MAPS as readonly string[]).includes(name))
        counts[name as (typeof MAPS)[number]][key] = n;
      else if (name === 'runs' || name === 'drafts' || name === 'draftsWorked') counts[name] = n;
    }
    return counts;
  }
}
