import type { Redis } from 'ioredis';
import { callFunction } from './functions';
import { WORKERS_KEY, campaignKeys } from './keys';

/**
 * A worker's lease on a campaign's stream: only the holder consumes and checkpoints it. Acquiring
 * again while holding it renews it. The Postgres checkpoint compare-and-set fences a holder whose
 * lease ran out while it was paused.
 */
export async function acquireLease(
  redis: Redis,
  campaignId: string,
  workerId: string,
  leaseMs: number,
): Promise<boolean> {
  const keys = campaignKeys(campaignId);
  return (
    Number(await callFunction(redis, 'lk_lease_acquire', [keys.lease, keys.session], [workerId, leaseMs])) ===
    1
  );
}

export async function releaseLease(redis: Redis, campaignId: string, workerId: string): Promise<void> {
  await callFunction(redis, 'lk_lease_release', [campaignKeys(campaignId).lease], [workerId]);
}

/**
 * Record that this worker is alive and return how many workers are (those seen within `leaseMs`).
 * Workers use the count to take only their fair share of the campaigns.
 */
export async function heartbeatWorker(redis: Redis, workerId: string, leaseMs: number): Promise<number> {
  const now = Date.now();
  const replies = await redis
    .multi()
    .zadd(WORKERS_KEY, now, workerId)
    .zremrangebyscore(WORKERS_KEY, '-inf', now - leaseMs)
    .zcard(WORKERS_KEY)
    .exec();
  return Math.max(1, Number(replies?.[2]?.[1] ?? 1));
}

export async function removeWorker(redis: Redis, workerId: string): Promise<void> {
  await redis.zrem(WORKERS_KEY, workerId);
}
