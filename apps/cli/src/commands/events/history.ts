import type { DomainRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { lastArchivedSeq, readEvents } from '@lorekeeper/pg-store';
import type { Redis, StreamEvent } from '@lorekeeper/redis-store';
import { readStreamRange } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { EventFilter } from './event-filter';
import { matches } from './event-filter';
import type { ListedEvent } from './listed-event';
import { fromArchive, fromStream } from './listed-event';

const PAGE = 1_000;

export interface HistoryRequest {
  readonly campaignId: string;
  readonly filter: EventFilter;
  /** At most this many events in all; undefined for every one. */
  readonly limit: number | undefined;
  /** The live stream, when Redis answered; without it only the archive is read. */
  readonly stream?: { readonly redis: Redis; readonly headSeq: number };
  readonly registry: DomainRegistry;
}

/**
 * The campaign's events in seq order, in pages: the Postgres archive, then the live stream after it.
 * The stream is read first, and the archive then up to the first entry the stream still had: a flush
 * that commits and trims in between moves events from one to the other, never out of both.
 */
export async function* readHistory(
  db: Kysely<Database>,
  request: HistoryRequest,
): AsyncGenerator<ListedEvent[], void, undefined> {
  const { campaignId, filter } = request;
  let remaining = request.limit ?? Number.POSITIVE_INFINITY;
  const live = request.stream ? await readLive(db, request, request.stream) : [];
  const archiveEnd = live[0] === undefined ? undefined : live[0].seq - 1;
  const toSeq = minDefined(filter.toSeq, archiveEnd);
  let fromSeq = filter.fromSeq;
  while (remaining > 0) {
    const page = await readEvents(db, campaignId, {
      ...filter,
      ...(fromSeq === undefined ? {} : { fromSeq }),
      ...(toSeq === undefined ? {} : { toSeq }),
      limit: Math.min(PAGE, remaining),
    });
    if (page.length > 0) yield page.map(fromArchive);
    remaining -= page.length;
    const last = page.at(-1);
    if (last === undefined || page.length < PAGE) break;
    fromSeq = last.seq + 1;
  }
  const fromStreamed = live
    .filter((event) => matches({ ...event, at: event.meta?.at ?? '' }, filter))
    .slice(0, Math.max(0, remaining))
    .map((event) => fromStream(event, request.registry));
  for (let start = 0; start < fromStreamed.length; start += PAGE)
    yield fromStreamed.slice(start, start + PAGE);
}

/**
 * Every stream entry after the archive's last event, up to the head, unfiltered: persistent events
 * not flushed yet and transient ones. Bounded by the worker's backlog plus STREAM_KEEP, so it fits
 * in memory.
 */
async function readLive(
  db: Kysely<Database>,
  request: HistoryRequest,
  stream: { readonly redis: Redis; readonly headSeq: number },
): Promise<StreamEvent[]> {
  const archived = await lastArchivedSeq(db, request.campaignId);
  const last = minDefined(request.filter.toSeq, stream.headSeq) ?? stream.headSeq;
  const events: StreamEvent[] = [];
  let from = Math.max(archived + 1, request.filter.fromSeq ?? 1);
  while (from <= last) {
    const page = await readStreamRange(stream.redis, request.campaignId, from, last, PAGE);
    events.push(...page);
    const end = page.at(-1);
    if (end === undefined || page.length < PAGE) break;
    from = end.seq + 1;
  }
  return events;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
