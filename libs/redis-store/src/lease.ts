import type { Redis } from 'ioredis';
import { callFunction } from './functions';
import { campaignKeys } from './keys';

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
