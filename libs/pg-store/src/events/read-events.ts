import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { Database } from '../database';
import type { ArchivedEvent } from './event.table';
import { toArchivedEvent } from './event.table';

export interface EventRange {
  /** First seq to return (inclusive). */
  readonly fromSeq?: number;
  /** Last seq to return (inclusive). */
  readonly toSeq?: number;
  /** Only this entity's events (served by the (campaign_id, entity_id, seq) index). */
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

/** Archived events in seq order. */
export async function readEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: EventRange = {},
): Promise<ArchivedEvent[]> {
  let query = filtered(db.selectFrom('events').selectAll(), campaignId, range).orderBy('seq');
  if (range.limit !== undefined) query = query.limit(range.limit);
  const rows = await query.execute();
  return rows.map(toArchivedEvent);
}

/** How many archived events match the range (for progress bars and summaries); `limit` is ignored. */
export async function countEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: Omit<EventRange, 'limit'> = {},
): Promise<number> {
  const query = filtered(
    db.selectFrom('events').select((eb) => eb.fn.countAll<string>().as('count')),
    campaignId,
    range,
  );
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The campaign's highest archived seq, 0 when it has none. */
export async function lastArchivedSeq(db: Kysely<Database>, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
  return Number(row?.seq ?? 0);
}

function filtered<O>(
  query: SelectQueryBuilder<Database, 'events', O>,
  campaignId: string,
  range: Omit<EventRange, 'limit'>,
): SelectQueryBuilder<Database, 'events', O> {
  let result = query.where('campaign_id', '=', campaignId);
  if (range.fromSeq !== undefined) result = result.where('seq', '>=', range.fromSeq);
  if (range.toSeq !== undefined) result = result.where('seq', '<=', range.toSeq);
  if (range.entityId !== undefined) result = result.where('entity_id', '=', range.entityId);
  if (range.types !== undefined) {
    // `in ()` is invalid SQL; no type asked for matches nothing.
    result = range.types.length === 0 ? result.where('seq', '<', 0) : result.where('type', 'in', range.types);
  }
  if (range.fromTime !== undefined) result = result.where('recorded_at', '>=', range.fromTime);
  if (range.toTime !== undefined) result = result.where('recorded_at', '<=', range.toTime);
  return result;
}
