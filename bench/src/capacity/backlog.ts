import { randomUUID } from 'node:crypto';
import type { Redis } from '@lorekeeper/redis-store';
import {
  EVENT_FIELD,
  campaignKeys,
  registerSession,
  streamEventJson,
  streamIdOf,
} from '@lorekeeper/redis-store';
import type { PlayedEvent } from './mix';

export interface Backlog {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly events: number;
  readonly sessionId: string;
}

/**
 * Register a session at the campaign's checkpoint and write at least `events` events into its stream
 * the way lk_append_v2 commits them (ids `<seq>-0`, the event's JSON in the `event` field; the seq
 * counter at the last one), one append per action. Faster than appending through the service, which is not
 * what the worker part measures; the events are the same.
 */
export async function writeBacklog(
  redis: Redis,
  campaignId: string,
  checkpointSeq: number,
  events: number,
  nextAction: () => PlayedEvent[],
  /**
   * Stamp the events (`meta.at`) as if played evenly over this many seconds up to now: a backlog the
   * worker finds after being away that long. 0 stamps each with the time it is written, which is a
   * burst of play at the rate this script writes.
   */
  overSeconds = 0,
): Promise<Backlog> {
  const keys = campaignKeys(campaignId);
  const sessionId = randomUUID();
  const outcome = await registerSession(
    redis,
    campaignId,
    sessionId,
    checkpointSeq,
    new Date().toISOString(),
  );
  if (outcome.kind !== 'new')
    throw new Error(`expected a new session for ${campaignId}, got ${outcome.kind}`);
  let seq = checkpointSeq;
  let pipeline = redis.pipeline();
  let queued = 0;
  const startedAt = Date.now();
  const stamp = (written: number) =>
    overSeconds > 0 ? startedAt - overSeconds * 1_000 * (1 - written / events) : Date.now();
  while (seq - checkpointSeq < events) {
    const at = new Date(stamp(seq - checkpointSeq)).toISOString();
    const meta = JSON.stringify({ sessionId, batchId: randomUUID(), at });
    for (const event of nextAction()) {
      seq += 1;
      pipeline.xadd(keys.events, streamIdOf(seq), EVENT_FIELD, streamEventJson(event, meta));
      queued += 1;
    }
    if (queued >= 2_000) {
      await pipeline.exec();
      pipeline = redis.pipeline();
      queued = 0;
    }
  }
  await pipeline.exec();
  await redis.set(keys.seq, seq);
  return { firstSeq: checkpointSeq + 1, lastSeq: seq, events: seq - checkpointSeq, sessionId };
}
