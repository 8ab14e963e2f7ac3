import type { Redis } from 'ioredis';
import { campaignKeys } from './keys';
import type { StreamEventWithJson } from './stream';
import { decodeEntryWithJson, streamIdOf } from './stream';

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
      /** A pending entry whose message was trimmed away: Redis returns it without fields. */
      readonly trimmed: boolean;
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
 * Read entries for `consumer`: from a stream id, what was delivered to it but not acknowledged (after
 * a restart; pass '0', then the last id returned), or with '>' new entries.
 */
export async function readGroup(
  redis: Redis,
  campaignId: string,
  consumer: string,
  after: string,
  count: number,
): Promise<ReadEntry[]> {
  const reply = await redis.xreadgroup(
    'GROUP',
    CONSUMER_GROUP,
    consumer,
    'COUNT',
    count,
    'STREAMS',
    campaignKeys(campaignId).events,
    after,
  );
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([streamId, fields]) => decode(streamId, fields ?? []));
}

/** Take over every entry pending for other consumers (their lease is gone, so are they). */
export async function claimPending(redis: Redis, campaignId: string, consumer: string): Promise<number> {
  let cursor = '0-0';
  let claimed = 0;
  do {
    const [next, entries] = (await redis.xautoclaim(
      campaignKeys(campaignId).events,
      CONSUMER_GROUP,
      consumer,
      0,
      cursor,
      'COUNT',
      1_000,
      'JUSTID',
    )) as [string, string[]];
    claimed += entries.length;
    cursor = next;
  } while (cursor !== '0-0');
  return claimed;
}

/**
 * Entries [fromSeq, toSeq] read straight from the stream and claimed for `consumer`: the ones another
 * consumer was given (a paused former owner) and this one must fold to keep the log contiguous.
 */
export async function readAndClaimRange(
  redis: Redis,
  campaignId: string,
  consumer: string,
  fromSeq: number,
  toSeq: number,
): Promise<ReadEntry[]> {
  const key = campaignKeys(campaignId).events;
  const entries = await redis.xrange(key, streamIdOf(fromSeq), streamIdOf(toSeq));
  if (entries.length > 0) {
    await redis.xclaim(key, CONSUMER_GROUP, consumer, 0, ...entries.map(([id]) => id), 'JUSTID');
  }
  return entries.map(([streamId, fields]) => decode(streamId, fields));
}

/** Acknowledge entries once the checkpoint that covers them is committed. */
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

/** Drop entries below `keepFromSeq` (all of them durable and acknowledged). */
export async function trimBelow(redis: Redis, campaignId: string, keepFromSeq: number): Promise<number> {
  if (keepFromSeq <= 1) return 0;
  return redis.xtrim(campaignKeys(campaignId).events, 'MINID', streamIdOf(keepFromSeq));
}

/** Entries delivered to the group but not acknowledged. */
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

function decode(streamId: string, fields: readonly string[]): ReadEntry {
  if (fields.length === 0) {
    return { ok: false, streamId, fields, error: 'the entry was trimmed from the stream', trimmed: true };
  }
  try {
    const event = decodeEntryWithJson(streamId, fields);
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
      trimmed: false,
    };
  }
}
