import type { Redis } from 'ioredis';
import { campaignKeys } from './keys';
import type { StreamEventWithJson, TypeOnly } from './stream';
import { EVENT_FIELD, TypeOnlyEvent, decodeEntryFor, decodeEntryWithJson, streamIdOf } from './stream';

export const CONSUMER_GROUP = 'lorekeeper-workers';

/** A stream entry as read, decoded when it can be: a poison entry keeps its raw fields. */
export type ReadEntry =
  | {
      readonly ok: true;
      readonly streamId: string;
      readonly event: StreamEventWithJson;
      readonly bytes: number;
    }
  | {
      readonly ok: false;
      readonly streamId: string;
      readonly fields: readonly string[];
      readonly error: string;
    };

/**
 * Create the workers' consumer group at the start of the stream. Returns false when the stream does
 * not exist (no event yet, or the session ended): the group is never created with MKSTREAM, so a
 * worker never re-creates a key of an ended campaign.
 */
export async function ensureGroup(redis: Redis, campaignId: string): Promise<boolean> {
  try {
    await redis.xgroup('CREATE', campaignKeys(campaignId).events, CONSUMER_GROUP, '0');
    return true;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (message.includes('BUSYGROUP')) return true;
    if (message.includes('requires the key to exist')) return false;
    throw error;
  }
}

/**
 * Read entries no consumer of the group was given yet (`>`), for `consumer`, without acknowledgement
 * (`NOACK`): they never enter the group's pending list. What is durable is the Postgres checkpoint,
 * and a consumer that takes a campaign over reads what was delivered past it again by range
 * (`readRange`), so the pending list would only cost Redis an entry per event delivered and an `XACK`
 * per flush (about three quarters of Redis's CPU in a catch-up: docs/architecture.md, "Reading").
 * Entries of a type `typeOnly` holds for are decoded by type only (decodeEntryFor).
 */
export async function readGroup(
  redis: Redis,
  campaignId: string,
  consumer: string,
  count: number,
  typeOnly?: TypeOnly,
): Promise<ReadEntry[]> {
  const reply = await redis.xreadgroup(
    'GROUP',
    CONSUMER_GROUP,
    consumer,
    'COUNT',
    count,
    'NOACK',
    'STREAMS',
    campaignKeys(campaignId).events,
    '>',
  );
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([streamId, fields]) => decode(streamId, fields ?? [], typeOnly));
}

/**
 * Acknowledge every entry the group still has pending, for whichever consumer: only workers of an
 * earlier version (which acknowledged after each flush) leave any. The consumer taking the campaign
 * over reads them again by range anyway. Returns how many there were.
 */
export async function clearPending(redis: Redis, campaignId: string, consumer: string): Promise<number> {
  let cursor = '0-0';
  let cleared = 0;
  do {
    const [next, ids] = (await redis.xautoclaim(
      campaignKeys(campaignId).events,
      CONSUMER_GROUP,
      consumer,
      0,
      cursor,
      'COUNT',
      1_000,
      'JUSTID',
    )) as [string, string[]];
    await acknowledge(redis, campaignId, ids);
    cleared += ids.length;
    cursor = next;
  } while (cursor !== '0-0');
  return cleared;
}

/**
 * Entries [fromSeq, toSeq] read straight from the stream, at most `count` of them: what a consumer
 * taking a campaign over reads again past its checkpoint, and the ones a paused former owner was given
 * that this one must fold to keep the log contiguous. `typeOnly` as for readGroup.
 */
export async function readRange(
  redis: Redis,
  campaignId: string,
  fromSeq: number,
  toSeq: number,
  count?: number,
  typeOnly?: TypeOnly,
): Promise<ReadEntry[]> {
  const key = campaignKeys(campaignId).events;
  const entries =
    count === undefined
      ? await redis.xrange(key, streamIdOf(fromSeq), streamIdOf(toSeq))
      : await redis.xrange(key, streamIdOf(fromSeq), streamIdOf(toSeq), 'COUNT', count);
  return entries.map(([streamId, fields]) => decode(streamId, fields, typeOnly));
}

/** Acknowledge entries (a no-op for entries that are not pending). */
export async function acknowledge(
  redis: Redis,
  campaignId: string,
  streamIds: readonly string[],
): Promise<void> {
  for (let start = 0; start < streamIds.length; start += 5_000) {
    await redis.xack(
      campaignKeys(campaignId).events,
      CONSUMER_GROUP,
      ...streamIds.slice(start, start + 5_000),
    );
  }
}

/** Drop entries below `keepFromSeq` (all of them durable). */
export async function trimBelow(redis: Redis, campaignId: string, keepFromSeq: number): Promise<number> {
  if (keepFromSeq <= 1) return 0;
  return redis.xtrim(campaignKeys(campaignId).events, 'MINID', streamIdOf(keepFromSeq));
}

/** Entries delivered to the group but not acknowledged (only workers of an earlier version leave any). */
export async function pendingCount(redis: Redis, campaignId: string): Promise<number> {
  try {
    const summary = (await redis.xpending(campaignKeys(campaignId).events, CONSUMER_GROUP)) as [
      number,
      ...unknown[],
    ];
    return Number(summary[0] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The entry with a TypeOnlyEvent decoded whole: as a dead letter records it, and undecodable (`ok`
 * false, its raw fields kept) when its data or meta turn out not to be JSON.
 */
export function decodedWhole(entry: ReadEntry): ReadEntry {
  return entry.ok && entry.event instanceof TypeOnlyEvent
    ? decode(entry.streamId, [EVENT_FIELD, entry.event.text])
    : entry;
}

function decode(streamId: string, fields: readonly string[], typeOnly?: TypeOnly): ReadEntry {
  try {
    const event = typeOnly
      ? decodeEntryFor(streamId, fields, typeOnly)
      : decodeEntryWithJson(streamId, fields);
    if (!event.type || !event.entityId || !Number.isInteger(event.version) || !Number.isInteger(event.seq)) {
      throw new Error('missing type, entityId, version or a <seq>-0 id');
    }
    return { ok: true, streamId, event, bytes: fields.reduce((sum, field) => sum + field.length, 0) };
  } catch (error) {
    return {
      ok: false,
      streamId,
      fields,
      error: error instanceof Error ? error.message : String(error),
    };
  }
}
