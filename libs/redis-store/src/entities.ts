import type { Redis } from 'ioredis';
import type { Entity } from '@lorekeeper/domain';
import { campaignKeys } from './keys';
import { ABSENT, isTombstone } from './tokens';

/** An entity as Redis holds it now: its version token, and its value unless absent or destroyed. */
export interface LiveEntity {
  readonly token: string;
  readonly entity: Entity | undefined;
  readonly transient: boolean;
}

/**
 * Read several entities' tokens and values in one round trip. `isTransient` says where each lives
 * (the registry knows by kind).
 */
export async function readLive(
  redis: Redis,
  campaignId: string,
  ids: readonly string[],
  isTransient: (entityId: string) => boolean,
): Promise<Map<string, LiveEntity>> {
  const keys = campaignKeys(campaignId);
  const persistent = ids.filter((id) => !isTransient(id));
  const transient = ids.filter((id) => isTransient(id));
  const pipeline = redis.pipeline();
  if (persistent.length > 0) {
    pipeline.hmget(keys.versions, ...persistent);
    pipeline.hmget(keys.entities, ...persistent);
  }
  for (const id of transient) pipeline.hmget(keys.transient(id), 'v', 'e');
  const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
    if (error) throw error;
    return value as (string | null)[];
  });

  const result = new Map<string, LiveEntity>();
  let at = 0;
  if (persistent.length > 0) {
    const tokens = replies[at++] ?? [];
    const values = replies[at++] ?? [];
    persistent.forEach((id, i) => {
      const token = tokens[i] ?? ABSENT;
      const json = values[i];
      result.set(id, {
        token,
        entity: json && !isTombstone(token) ? (JSON.parse(json) as Entity) : undefined,
        transient: false,
      });
    });
  }
  for (const id of transient) {
    const [token, json] = replies[at++] ?? [];
    result.set(id, {
      token: token ?? ABSENT,
      entity: json ? (JSON.parse(json) as Entity) : undefined,
      transient: true,
    });
  }
  return result;
}

/** Every live entity of the campaign: the persistent ones and the transient ones not yet expired. */
export async function listLive(redis: Redis, campaignId: string): Promise<Entity[]> {
  const keys = campaignKeys(campaignId);
  const [values, transientIds] = await Promise.all([
    redis.hvals(keys.entities),
    redis.smembers(keys.transientIndex),
  ]);
  const entities = values.map((json) => JSON.parse(json) as Entity);
  if (transientIds.length === 0) return entities;
  const pipeline = redis.pipeline();
  for (const id of transientIds) pipeline.hget(keys.transient(id), 'e');
  const expired: string[] = [];
  ((await pipeline.exec()) ?? []).forEach(([error, json], i) => {
    if (error) throw error;
    if (typeof json === 'string') entities.push(JSON.parse(json) as Entity);
    else expired.push(transientIds[i] as string);
  });
  if (expired.length > 0) await redis.srem(keys.transientIndex, ...expired);
  return entities;
}

/** How many persistent entities are live (for metrics and the memory checks). */
export async function countLive(redis: Redis, campaignId: string): Promise<number> {
  return redis.hlen(campaignKeys(campaignId).entities);
}
