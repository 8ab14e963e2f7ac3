import type { Redis } from 'ioredis';
import type { Entity } from '@lorekeeper/domain';
import { campaignKeys } from './keys';
import { ABSENT, isTombstone } from './tokens';
import type { StreamEvent } from './stream';
import { decodeEntry, streamIdOf } from './stream';

/** An entity as Redis holds it now: its version token, and its value unless absent or destroyed. */
export interface LiveEntity {
  readonly token: string;
  readonly entity: Entity | undefined;
  readonly transient: boolean;
  /** The length of the entity's JSON (0 when absent): what holding it costs, roughly. */
  readonly bytes: number;
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
  // Plain commands rather than a pipeline of their own: on a connection with auto-pipelining (the
  // session service's) they leave in the same write as every other request's commands of this
  // event-loop turn, one syscall for many appends instead of one each.
  const replies = await Promise.all<(string | null)[]>([
    ...(persistent.length > 0
      ? [redis.hmget(keys.versions, ...persistent), redis.hmget(keys.entities, ...persistent)]
      : []),
    ...transient.map((id) => redis.hmget(keys.transient(id), 'v', 'e')),
  ]);

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
        bytes: json?.length ?? 0,
      });
    });
  }
  for (const id of transient) {
    const [token, json] = replies[at++] ?? [];
    result.set(id, {
      token: token ?? ABSENT,
      entity: json ? (JSON.parse(json) as Entity) : undefined,
      transient: true,
      bytes: json?.length ?? 0,
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

/** A consistent copy of a campaign's persistent live state and its stream from some seq on. */
export interface LiveCopy {
  /** The last seq Redis issued when the copy was taken. */
  readonly headSeq: number;
  /** Persistent live entities by id (destroyed ones are absent). */
  readonly entities: Map<string, Entity>;
  /** Version tokens by id, as the Functions compare them (tombstones included). */
  readonly tokens: Map<string, string>;
  /** Stream entries with seq >= fromSeq that were still in the stream. */
  readonly events: StreamEvent[];
}

/**
 * Read the head seq, the persistent entities, their tokens and the stream from `fromSeq` in one MULTI,
 * so no append lands between the parts (for `lorekeeper verify`; a session's live set is small).
 */
export async function readLiveCopy(redis: Redis, campaignId: string, fromSeq: number): Promise<LiveCopy> {
  const keys = campaignKeys(campaignId);
  const replies = await redis
    .multi()
    .get(keys.seq)
    .hgetall(keys.versions)
    .hgetall(keys.entities)
    .xrange(keys.events, streamIdOf(Math.max(1, fromSeq)), '+')
    .exec();
  const [seq, versions, values, entries] = (replies ?? []).map(([error, value]) => {
    if (error) throw error;
    return value;
  }) as [string | null, Record<string, string>, Record<string, string>, [string, string[]][]];
  const entities = new Map<string, Entity>();
  for (const [id, json] of Object.entries(values)) {
    if (!isTombstone(versions[id] ?? ABSENT)) entities.set(id, JSON.parse(json) as Entity);
  }
  return {
    headSeq: Number(seq ?? 0),
    entities,
    tokens: new Map(Object.entries(versions)),
    events: entries.map(([id, fields]) => decodeEntry(id, fields)),
  };
}
