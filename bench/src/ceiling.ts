import type { Redis } from '@lorekeeper/redis-store';

/**
 * The ceiling every append benchmark compares against: one Redis Function that only XADDs each event
 * and HSETs its entity, with none of Lorekeeper's checks (no session fence, no versions, no
 * idempotency, no validation). Nothing that writes through Redis can be faster on the same machine.
 * Its entries have the layout Lorekeeper's have (one `event` field of JSON), without the version and
 * meta.
 */
export const CEILING_LIBRARY = `#!lua name=lorekeeper_bench
-- KEYS[1] stream, KEYS[2] hash; ARGV: n, then per event: entity id, event JSON, entity JSON
redis.register_function('bench_append', function(keys, args)
  local n = tonumber(args[1])
  for i = 0, n - 1 do
    redis.call('XADD', keys[1], '*', 'event', args[3 + i * 3])
    redis.call('HSET', keys[2], args[2 + i * 3], args[4 + i * 3])
  end
  return n
end)`;

export interface CeilingEvent {
  readonly entityId: string;
  readonly data: unknown;
  /** The entity after the event, as Lorekeeper would store it. */
  readonly entity: unknown;
}

/** The ceiling's keys for one run; callers UNLINK them afterwards (the stream is never trimmed). */
export function ceilingKeys(label: string): { readonly stream: string; readonly hash: string } {
  return { stream: `bench:{b:${label}}:events`, hash: `bench:{b:${label}}:entities` };
}

export async function loadCeiling(redis: Redis): Promise<void> {
  await redis.call('FUNCTION', 'LOAD', 'REPLACE', CEILING_LIBRARY);
}

/** One call of the ceiling Function for a batch of events; ioredis pipelines concurrent calls. */
export async function ceilingAppend(
  redis: Redis,
  keys: { readonly stream: string; readonly hash: string },
  events: readonly CeilingEvent[],
): Promise<void> {
  const argv: string[] = [String(events.length)];
  for (const event of events) {
    argv.push(
      event.entityId,
      JSON.stringify({ type: 'player.xp.gained', entityId: event.entityId, data: event.data }),
      JSON.stringify(event.entity),
    );
  }
  await redis.fcall('bench_append', 2, keys.stream, keys.hash, ...argv);
}
