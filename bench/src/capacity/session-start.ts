import type { NatsConnection } from 'nats';
import { seededRandom } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys, deleteCampaignKeys } from '@lorekeeper/redis-store';
import { ask } from './stack';

/** One `session.start`, measured from the request to the reply, and what it left in Redis. */
export interface SessionStartSample {
  readonly players: number;
  readonly ms: number;
  readonly liveEntities: number;
  /** `used_memory` after the start minus before it, divided by the entities made live. */
  readonly bytesPerEntityInfo: number;
  /** MEMORY USAGE of the campaign's entity and version hashes, divided by the entities made live. */
  readonly bytesPerEntityHashes: number;
  readonly usedMemoryBytes: number;
}

/** Start a session for `players` players of the campaign, measure it, then drop the session's keys. */
export async function measureSessionStart(
  nats: NatsConnection,
  redis: Redis,
  campaignId: string,
  playerIds: readonly string[],
): Promise<SessionStartSample> {
  const before = await settledUsedMemory(redis);
  const started = performance.now();
  await ask(nats, `campaign.${campaignId}.session.start`, { playerIds });
  const ms = performance.now() - started;
  const after = await usedMemory(redis);
  const keys = campaignKeys(campaignId);
  const liveEntities = await redis.hlen(keys.entities);
  const hashes = (await memoryUsage(redis, keys.entities)) + (await memoryUsage(redis, keys.versions));
  // Nothing was appended, so nothing is lost by dropping the keys instead of ending the session.
  await deleteCampaignKeys(redis, campaignId);
  return {
    players: playerIds.length,
    ms,
    liveEntities,
    bytesPerEntityInfo: (after - before) / liveEntities,
    bytesPerEntityHashes: hashes / liveEntities,
    usedMemoryBytes: after,
  };
}

/** `count` distinct player ids of a campaign with `total` players, different for every `seed`. */
export function pickPlayers(total: number, count: number, seed: number): string[] {
  const random = seededRandom(seed);
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, total)) chosen.add(Math.floor(random() * total));
  return [...chosen].map((i) => `player:p${i}`);
}

export async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? NaN);
}

/** used_memory once UNLINK's background frees of the previous round are done (it stops moving). */
async function settledUsedMemory(redis: Redis): Promise<number> {
  let last = await usedMemory(redis);
  for (let i = 0; i < 40; i += 1) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await usedMemory(redis);
    if (now === last) return now;
    last = now;
  }
  return last;
}

async function memoryUsage(redis: Redis, key: string): Promise<number> {
  // SAMPLES 0: measure every field, not an estimate from five.
  return Number((await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) ?? 0);
}

/**
 * Rounds of session starts with 2, 20 and 200 players, interleaved; different players every round.
 * One unmeasured start first, so the service's first-request costs (JIT, pool connections) are not
 * charged to whichever size happens to go first.
 */
export async function sessionStartPart(
  campaign: {
    readonly nats: NatsConnection;
    readonly redis: Redis;
    readonly campaignId: string;
    readonly totalPlayers: number;
  },
  sizes: readonly number[],
  rounds: number,
  log: (line: string) => void,
): Promise<Record<number, SessionStartSample[]>> {
  const { nats, redis, campaignId, totalPlayers } = campaign;
  await measureSessionStart(nats, redis, campaignId, pickPlayers(totalPlayers, 2, 999));
  const samples: Record<number, SessionStartSample[]> = {};
  for (let round = 1; round <= rounds; round += 1) {
    for (const size of sizes) {
      const sample = await measureSessionStart(
        nats,
        redis,
        campaignId,
        pickPlayers(totalPlayers, size, round * 1_000 + size),
      );
      (samples[size] ??= []).push(sample);
      log(
        `session.start ${String(size).padStart(3)} players: ${sample.ms.toFixed(0)} ms, ${sample.liveEntities} live, ` +
          `${sample.bytesPerEntityInfo.toFixed(0)} B/entity (INFO), ${sample.bytesPerEntityHashes.toFixed(0)} B/entity (hashes)`,
      );
    }
  }
  return samples;
}
