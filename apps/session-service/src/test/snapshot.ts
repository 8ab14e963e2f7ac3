import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys } from '@lorekeeper/redis-store';

/** Everything an append could change in Redis, to prove a rejected one changed nothing. */
export async function redisSnapshot(redis: Redis, campaignId: string) {
  const keys = campaignKeys(campaignId);
  const [streamLength, seq, versions, entities, transient] = await Promise.all([
    redis.xlen(keys.events),
    redis.get(keys.seq),
    redis.hgetall(keys.versions),
    redis.hgetall(keys.entities),
    redis.smembers(keys.transientIndex),
  ]);
  return { streamLength, seq, versions, entities, transient: transient.sort() };
}
