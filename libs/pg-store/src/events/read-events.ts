import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { ArchivedEntry, ArchivedEvent } from './event.table';
import { toArchivedEvent } from './event.table';

export interface EventRange {
  /** First seq to return (inclusive). */
  readonly fromSeq?: number;
  /** Last seq to return (inclusive). */
  readonly toSeq?: number;
  /** Only this entity's events (its chunks are found by the archive's entity index, migration 0012). */
  readonly entityId?: string;
  /** Only events of these types; an empty list matches nothing. */
  readonly types?: readonly string[];
  /** Only events recorded (meta.at) at or after this instant. */
  readonly fromTime?: Date;
  /** Only events recorded (meta.at) at or before this instant. */
  readonly toTime?: Date;
  /** At most this many; page on by asking again from the last seq + 1. */
  readonly limit?: number;
}

/** Chunks fetched per query while reading: a few thousand events, a few megabytes. */
const CHUNKS_PER_QUERY = 8;

/** Archived events in seq order. */
export async function readEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: EventRange = {},
): Promise<ArchivedEvent[]> {
  const limit = range.limit ?? Infinity;
  const events: ArchivedEvent[] = [];
  if (limit <= 0) return events;
  const matches = matcher(range);
  for await (const chunk of chunksFor(db, campaignId, range)) {
    for (const entry of chunk) {
      if (!matches(entry)) continue;
      events.push(toArchivedEvent(entry));
      if (events.length >= limit) return events;
    }
  }
  return events;
}

/** How many archived events match the range (for progress bars and summaries); `limit` is ignored. */
export async function countEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: Omit<EventRange, 'limit'> = {},
): Promise<number> {
  const matches = matcher(range);
  if (range.entityId !== undefined || range.types !== undefined || range.fromTime || range.toTime) {
    let count = 0;
    for await (const chunk of chunksFor(db, campaignId, range)) {
      for (const entry of chunk) if (matches(entry)) count += 1;
    }
    return count;
  }
  // A range of seqs only: whole chunks are counted from their rows, the (at most two) cut ones by hand.
  const from = range.fromSeq ?? 1;
  const to = range.toSeq ?? Number.MAX_SAFE_INTEGER;
  const whole = await db
    .selectFrom('event_chunks')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<string>('event_count'), eb.lit(0)).as('count'))
    .where('campaign_id', '=', campaignId)
    .where('first_seq', '>=', from)
    .where('last_seq', '<=', to)
    .executeTakeFirstOrThrow();
  const cut = await db
    .selectFrom('event_chunks')
    .select('events')
    .where('campaign_id', '=', campaignId)
    .where('last_seq', '>=', from)
    .where('first_seq', '<=', to)
    .where((eb) => eb.or([eb('first_seq', '<', from), eb('last_seq', '>', to)]))
    .execute();
  let count = Number(whole.count);
  for (const { events } of cut) for (const entry of events) if (matches(entry)) count += 1;
  return count;
}

/** The campaign's highest archived seq, 0 when it has none. */
export async function lastArchivedSeq(db: Kysely<Database>, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('event_chunks')
    .select((eb) => eb.fn.max('last_seq').as('seq'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/**
 * The highest archived seq recorded (meta.at) at or before `at`, 0 when none was. Times need not rise
 * with seqs, but every event of a later chunk has a higher seq than any of an earlier one, so the answer
 * is in the last chunk whose earliest time is at or before `at`.
 */
export async function lastArchivedSeqAt(db: Kysely<Database>, campaignId: string, at: Date): Promise<number> {
  const chunk = await db
    .selectFrom('event_chunks')
    .select('events')
    .where('campaign_id', '=', campaignId)
    .where('first_at', '<=', at)
    .orderBy('first_seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  let seq = 0;
  for (const entry of chunk?.events ?? []) {
    if (Date.parse(entry.meta.at) <= at.getTime()) seq = Math.max(seq, entry.seq);
  }
  return seq;
}

/**
 * The chunks that may hold events of the range, in seq order, a few per query: found by seq range and
 * by time range from the chunks' own columns, and for one entity within the windows its index names.
 * Their events still need `matcher`.
 */
async function* chunksFor(
  db: Kysely<Database>,
  campaignId: string,
  range: Omit<EventRange, 'limit'>,
): AsyncGenerator<readonly ArchivedEntry[]> {
  if (range.types?.length === 0) return;
  const from = (range.fromSeq ?? 1) - 1;
  const windows =
    range.entityId === undefined ? everything() : entityWindows(db, campaignId, range.entityId, from);
  for await (const window of windows) {
    if (range.toSeq !== undefined && window.firstSeq > range.toSeq) return;
    yield* chunksIn(db, campaignId, range, window, from);
  }
}

/** Seqs a chunk lies within (both ends included). */
interface SeqWindow {
  readonly firstSeq: number;
  readonly lastSeq: number;
}

async function* everything(): AsyncGenerator<SeqWindow> {
  yield { firstSeq: 1, lastSeq: Number.MAX_SAFE_INTEGER };
}

/** Entity ranges read per query while finding one entity's windows. */
const RANGES_PER_QUERY = 64;

/**
 * Where one entity's chunks can be: each indexed range that names it past `after`, in seq order, then
 * everything past the last range, which no range covers yet (at most a backlog bound of events: the
 * chunks major events' flushes archived since the last flush on the save cadence). Where the index
 * ends is read first, so a range written meanwhile is read as part of that tail.
 */
async function* entityWindows(
  db: Kysely<Database>,
  campaignId: string,
  entityId: string,
  after: number,
): AsyncGenerator<SeqWindow> {
  const { indexed } = await db
    .selectFrom('event_entity_ranges')
    .select(sql<string | null>`max(last_seq)`.as('indexed'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
  const tail = Number(indexed ?? 0);
  let from = after;
  while (from < tail) {
    const ranges = await db
      .selectFrom('event_entity_ranges')
      .select(['first_seq', 'last_seq'])
      .where('campaign_id', '=', campaignId)
      .where('last_seq', '>', from)
      .where('last_seq', '<=', tail)
      .where(namesEntity(entityId))
      .orderBy('last_seq')
      .limit(RANGES_PER_QUERY)
      .execute();
    for (const r of ranges) {
      from = Number(r.last_seq);
      yield { firstSeq: Number(r.first_seq), lastSeq: from };
    }
    if (ranges.length < RANGES_PER_QUERY) break;
  }
  yield { firstSeq: tail + 1, lastSeq: Number.MAX_SAFE_INTEGER };
}

/** A row (a chunk or an index range) whose `entity_ids` names the entity. */
function namesEntity(entityId: string) {
  return sql<boolean>`entity_ids @> array[${entityId}]::text[]`;
}

/** The chunks of one window that may hold events of the range, a few per query. */
async function* chunksIn(
  db: Kysely<Database>,
  campaignId: string,
  range: Omit<EventRange, 'limit'>,
  window: SeqWindow,
  from: number,
): AsyncGenerator<readonly ArchivedEntry[]> {
  let after = from;
  for (;;) {
    let query = db
      .selectFrom('event_chunks')
      .select(['last_seq', 'events'])
      .where('campaign_id', '=', campaignId)
      .where('last_seq', '>', after);
    // A chunk lies whole inside its range (indexEntityRange), so its last seq bounds the index scan.
    if (window.firstSeq > 1) query = query.where('first_seq', '>=', window.firstSeq);
    if (window.lastSeq < Number.MAX_SAFE_INTEGER) query = query.where('last_seq', '<=', window.lastSeq);
    if (range.toSeq !== undefined) query = query.where('first_seq', '<=', range.toSeq);
    if (range.entityId !== undefined) {
      query = query.where(namesEntity(range.entityId));
    }
    if (range.fromTime) query = query.where('last_at', '>=', range.fromTime);
    if (range.toTime) query = query.where('first_at', '<=', range.toTime);
    const rows = await query.orderBy('last_seq').limit(CHUNKS_PER_QUERY).execute();
    for (const row of rows) yield row.events;
    if (rows.length < CHUNKS_PER_QUERY) return;
    after = (rows[rows.length - 1] as { last_seq: number }).last_seq;
  }
}

function matcher(range: Omit<EventRange, 'limit'>): (entry: ArchivedEntry) => boolean {
  const from = range.fromSeq ?? -Infinity;
  const to = range.toSeq ?? Infinity;
  const types = range.types && new Set(range.types);
  const fromTime = range.fromTime?.getTime() ?? -Infinity;
  const toTime = range.toTime?.getTime() ?? Infinity;
  const timed = range.fromTime !== undefined || range.toTime !== undefined;
  return (entry) => {
    if (entry.seq < from || entry.seq > to) return false;
    if (range.entityId !== undefined && entry.entityId !== range.entityId) return false;
    if (types && !types.has(entry.type)) return false;
    if (!timed) return true;
    const at = Date.parse(entry.meta.at);
    return at >= fromTime && at <= toTime;
  };
}
