import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeyPattern, campaignKeys } from '@lorekeeper/redis-store';

/**
 * What a contender keeps in Redis for one campaign, read from its own keys with MEMORY USAGE (not
 * from INFO deltas, which other users of the shared Redis would disturb).
 */
export interface RedisFootprint {
  /** Entities whose state is in Redis. */
  readonly liveEntities: number;
  /** The hashes holding entity state (and, for Lorekeeper, their versions). */
  readonly entityBytes: number;
  /** Every key of the campaign: the above, the stream, idempotency keys, transient entities. */
  readonly totalBytes: number;
}

export async function memoryUsage(redis: Redis, key: string): Promise<number> {
  // SAMPLES 0: measure every field of a hash or entry of a stream, not an estimate from five.
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

/** A Lorekeeper campaign's keys, found with SCAN on its hash-tagged prefix. */
export async function campaignFootprint(redis: Redis, campaignId: string): Promise<RedisFootprint> {
  const keys = campaignKeys(campaignId);
  const liveEntities = await redis.hlen(keys.entities);
  const entityBytes = (await memoryUsage(redis, keys.entities)) + (await memoryUsage(redis, keys.versions));
  let totalBytes = 0;
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', campaignKeyPattern(campaignId), 'COUNT', 1_000);
    cursor = next;
    for (const key of found) totalBytes += await memoryUsage(redis, key);
  } while (cursor !== '0');
  return { liveEntities, entityBytes, totalBytes };
}

/** An entity hash and the other keys stored beside it (the ceiling's stream). */
export async function hashFootprint(
  redis: Redis,
  hash: string,
  others: readonly string[],
): Promise<RedisFootprint> {
  const entityBytes = await memoryUsage(redis, hash);
  let totalBytes = entityBytes;
  for (const key of others) totalBytes += await memoryUsage(redis, key);
  return { liveEntities: await redis.hlen(hash), entityBytes, totalBytes };
}
