import type { Redis } from 'ioredis';
import type { EncodedEntity } from '@lorekeeper/domain';
import { callFunction } from './functions';
import { ACTIVE_CAMPAIGNS_KEY, campaignKeys } from './keys';

export type SessionStartOutcome =
  | { readonly kind: 'new' | 'existing'; readonly sessionId: string; readonly seq: number }
  | { readonly kind: 'closing' }
  | { readonly kind: 'stale'; readonly seq: number };

/**
 * Register `sessionId` as the campaign's session, or return the one already active. Reports a Redis
 * whose seq is behind the Postgres checkpoint (`stale`): that state must be dropped, not continued.
 */
export async function registerSession(
  redis: Redis,
  campaignId: string,
  sessionId: string,
  checkpointSeq: number,
  now: string,
): Promise<SessionStartOutcome> {
  const keys = campaignKeys(campaignId);
  const reply = (await callFunction(
    redis,
    'lk_session_start',
    [keys.session, keys.seq],
    [sessionId, checkpointSeq, now],
  )) as string[];
  switch (reply[0]) {
    case 'new':
    case 'existing':
      return { kind: reply[0], sessionId: String(reply[1]), seq: Number(reply[2]) };
    case 'closing':
      return { kind: 'closing' };
    default:
      return { kind: 'stale', seq: Number(reply[1]) };
  }
}

export interface SessionRecord {
  readonly id: string;
  readonly status: 'active' | 'closing';
  readonly startedAt: string;
}

export async function readSession(redis: Redis, campaignId: string): Promise<SessionRecord | undefined> {
  const [id, status, startedAt] = await redis.hmget(
    campaignKeys(campaignId).session,
    'id',
    'status',
    'startedAt',
  );
  if (!id || (status !== 'active' && status !== 'closing')) return undefined;
  return { id, status, startedAt: startedAt ?? '' };
}

/** The campaign's last issued seq as Redis knows it (0 when it has none). */
export async function readHeadSeq(redis: Redis, campaignId: string): Promise<number> {
  return Number((await redis.get(campaignKeys(campaignId).seq)) ?? 0);
}

const LOAD_CHUNK = 500;

/**
 * Make durable entities live for the session, skipping any already live (Redis may be newer).
 * Returns how many were written, or -1 when `sessionId` is not the active session. The entities come
 * as JSON (encodeEntity, or as Postgres printed them), which Redis stores as it is.
 *
 * Chunks go out one event-loop turn apart: Redis runs a chunk while the next is sent, instead of
 * waiting for all of them to be built first, and other requests get the loop between chunks.
 */
export async function loadLiveEntities(
  redis: Redis,
  campaignId: string,
  sessionId: string,
  entities: readonly EncodedEntity[],
): Promise<number> {
  const keys = campaignKeys(campaignId);
  const calls: Promise<unknown>[] = [];
  for (let start = 0; start < entities.length; start += LOAD_CHUNK) {
    if (start > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const args: (string | number)[] = [sessionId];
    for (let i = start; i < Math.min(start + LOAD_CHUNK, entities.length); i += 1) {
      const entity = entities[i] as EncodedEntity;
      args.push(entity.id, entity.version, entity.json);
    }
    const call = callFunction(redis, 'lk_load', [keys.session, keys.versions, keys.entities], args);
    call.catch(() => undefined); // awaited below; not an unhandled rejection while the next is built
    calls.push(call);
  }
  return loadedTotal((await Promise.all(calls)).map(Number));
}

/** The entities several lk_load calls made live, or -1 when any found the session not active. */
export function loadedTotal(counts: readonly number[]): number {
  return counts.some((count) => count < 0) ? -1 : counts.reduce((sum, count) => sum + count, 0);
}

/** Tell the persistence workers that this campaign has a session whose stream needs consuming. */
export async function markCampaignActive(redis: Redis, campaignId: string): Promise<void> {
  await redis.sadd(ACTIVE_CAMPAIGNS_KEY, campaignId);
}

export async function activeCampaigns(redis: Redis): Promise<string[]> {
  return redis.smembers(ACTIVE_CAMPAIGNS_KEY);
}

/**
 * Of these campaigns, those with a session in Redis now. An active-set entry without one is left over
 * from keys removed outside a session end (by hand, say): no worker can take it, so it must not count
 * towards the workers' fair shares. The entry itself stays: removing it is not atomic with a new
 * session's start, which would then be lost from the set.
 */
export async function campaignsWithSession(redis: Redis, campaignIds: readonly string[]): Promise<string[]> {
  const found = await Promise.all(campaignIds.map((id) => redis.exists(campaignKeys(id).session)));
  return campaignIds.filter((_, i) => found[i] === 1);
}

/**
 * Remove every key of the campaign (session end, or Redis found behind the checkpoint). The keys that
 * make up its state, the idempotency records among them, go in one UNLINK, so nobody sees half a
 * campaign; the transient entities' hashes (listed in the transient index, read first) go after, and
 * would expire on their own anyway. No key is found by scanning: the cost follows the campaign's own
 * size, never the size of the whole Redis.
 */
export async function deleteCampaignKeys(redis: Redis, campaignId: string): Promise<number> {
  // Leave the active set first, so no worker takes a new lease while the keys go.
  await redis.srem(ACTIVE_CAMPAIGNS_KEY, campaignId);
  const keys = campaignKeys(campaignId);
  const transient: string[] = [];
  let cursor = '0';
  do {
    const [next, ids] = await redis.sscan(keys.transientIndex, cursor, 'COUNT', 1_000);
    cursor = next;
    for (const id of ids) transient.push(keys.transient(id));
  } while (cursor !== '0');
  let deleted = await redis.unlink(
    keys.session,
    keys.seq,
    keys.versions,
    keys.entities,
    keys.events,
    keys.transientIndex,
    keys.idempotency,
    keys.lease,
  );
  for (let at = 0; at < transient.length; at += 1_000) {
    deleted += await redis.unlink(...transient.slice(at, at + 1_000));
  }
  return deleted;
}

/**
 * Mark the session as closing: from now on appends and saves get SESSION_CLOSING. Returns the seq of
 * the last event, which the final sync must make durable, or undefined when `sessionId` is not active.
 */
export async function closeSession(
  redis: Redis,
  campaignId: string,
  sessionId: string,
): Promise<number | undefined> {
  const keys = campaignKeys(campaignId);
  const reply = (await callFunction(
    redis,
    'lk_session_close',
    [keys.session, keys.seq],
    [sessionId],
  )) as string[];
  return reply[0] === 'ok' ? Number(reply[1]) : undefined;
}

/** Reopen a session whose final sync could not complete, so the game can go on. */
export async function reopenSession(redis: Redis, campaignId: string, sessionId: string): Promise<boolean> {
  const keys = campaignKeys(campaignId);
  return Number(await callFunction(redis, 'lk_session_reopen', [keys.session], [sessionId])) === 1;
}
