import type { Redis } from 'ioredis';
import type { EventMeta, RecordedEvent } from '@lorekeeper/domain';
import { campaignKeys } from './keys';

/** A stream entry decoded: the recorded event plus its stream id. */
export interface StreamEvent extends RecordedEvent {
  readonly streamId: string;
}

/** The stream id of the event with this seq (ids are `<seq>-0`). */
export const streamIdOf = (seq: number): string => `${seq}-0`;

export function decodeEntry(streamId: string, fields: readonly string[]): StreamEvent {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  return {
    streamId,
    seq: Number(streamId.slice(0, streamId.indexOf('-'))),
    type: record['type'] ?? '',
    entityId: record['entityId'] ?? '',
    version: Number(record['version']),
    data: JSON.parse(record['data'] ?? 'null') as unknown,
    meta: JSON.parse(record['meta'] ?? 'null') as EventMeta,
  };
}

/** Events with seq in [fromSeq, toSeq], oldest first. */
export async function readStreamRange(
  redis: Redis,
  campaignId: string,
  fromSeq = 1,
  toSeq?: number,
  count = 10_000,
): Promise<StreamEvent[]> {
  const entries = await redis.xrange(
    campaignKeys(campaignId).events,
    streamIdOf(fromSeq),
    toSeq === undefined ? '+' : streamIdOf(toSeq),
    'COUNT',
    count,
  );
  return entries.map(([id, fields]) => decodeEntry(id, fields));
}

export async function streamLength(redis: Redis, campaignId: string): Promise<number> {
  return redis.xlen(campaignKeys(campaignId).events);
}
