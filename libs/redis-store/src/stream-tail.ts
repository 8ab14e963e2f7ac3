import type { Redis } from 'ioredis';
import { campaignKeys } from './keys';
import type { StreamEvent } from './stream';
import { decodeEntry, streamIdOf } from './stream';

/**
 * Entries after `afterSeq`, waiting up to `blockMs` for one to arrive (XREAD BLOCK); [] on timeout.
 * Reading from a position rather than subscribing means a follower that was busy, or started late,
 * misses nothing the stream still holds. Blocks its connection: give it one of its own.
 */
export async function readStreamAfter(
  redis: Redis,
  campaignId: string,
  afterSeq: number,
  blockMs: number,
  count = 1_000,
): Promise<StreamEvent[]> {
  const reply = await redis.xread(
    'COUNT',
    count,
    'BLOCK',
    blockMs,
    'STREAMS',
    campaignKeys(campaignId).events,
    streamIdOf(afterSeq),
  );
  const entries = reply?.[0]?.[1] ?? [];
  return entries.map(([id, fields]) => decodeEntry(id, fields));
}
