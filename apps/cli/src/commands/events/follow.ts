import type { DomainRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { readEvents } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { readStreamAfter } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { EventFilter } from './event-filter';
import { matches } from './event-filter';
import type { ListedEvent } from './listed-event';
import { fromArchive, fromStream } from './listed-event';

/** How long one XREAD waits; also how long a stop request can take to be noticed. */
const BLOCK_MS = 500;

export interface FollowRequest {
  readonly campaignId: string;
  /** The last seq the history covered: following starts right after it. */
  readonly afterSeq: number;
  readonly filter: EventFilter;
  readonly registry: DomainRegistry;
  /** Set true (on SIGINT/SIGTERM) to stop after the current read. */
  readonly stop: { stopped: boolean };
  readonly warn: (message: string) => void;
}

/**
 * Tail the campaign's stream with XREAD BLOCK from the last seq the history covered, rather than
 * subscribing to `campaign.<id>.events`: a position in the stream cannot lose what arrives between the
 * history and the first live read, nor while the printer is busy, and a NATS publish may be dropped
 * (it is fire-and-forget after the commit). The stream also carries each event's meta. Entries the
 * worker trimmed before we read them are taken from the archive, so the output has no hole.
 */
export async function followStream(
  db: Kysely<Database>,
  redis: Redis,
  request: FollowRequest,
  emit: (events: readonly ListedEvent[]) => Promise<void>,
): Promise<void> {
  let cursor = request.afterSeq;
  while (!request.stop.stopped) {
    const entries = await readStreamAfter(redis, request.campaignId, cursor, BLOCK_MS);
    const first = entries[0];
    if (first === undefined) continue;
    if (first.seq > cursor + 1) await emit(await fillGap(db, request, cursor + 1, first.seq - 1));
    const listed = entries
      .filter((event) => matches({ ...event, at: event.meta?.at ?? '' }, request.filter))
      .map((event) => fromStream(event, request.registry));
    if (listed.length > 0) await emit(listed);
    cursor = (entries.at(-1) ?? first).seq;
  }
}

async function fillGap(
  db: Kysely<Database>,
  request: FollowRequest,
  fromSeq: number,
  toSeq: number,
): Promise<ListedEvent[]> {
  request.warn(
    `lorekeeper: seq ${fromSeq}..${toSeq} left the stream before they were read; ` +
      'showing the archived (persistent) ones.',
  );
  const archived = await readEvents(db, request.campaignId, { ...request.filter, fromSeq, toSeq });
  return archived.map(fromArchive);
}
