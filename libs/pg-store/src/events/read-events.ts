import type { Kysely } from 'kysely';
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
  /** At most this many; page on by asking again from the last seq + 1. */
  readonly limit?: number;
}

/** Archived events in seq order. */
export async function readEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: EventRange = {},
): Promise<ArchivedEvent[]> {
  let query = db.selectFrom('events').selectAll().where('campaign_id', '=', campaignId).orderBy('seq');
  if (range.fromSeq !== undefined) query = query.where('seq', '>=', range.fromSeq);
  if (range.toSeq !== undefined) query = query.where('seq', '<=', range.toSeq);
  if (range.entityId !== undefined) query = query.where('entity_id', '=', range.entityId);
  if (range.limit !== undefined) query = query.limit(range.limit);
  const rows = await query.execute();
  return rows.map(toArchivedEvent);
}

/** How many archived events have seq in [fromSeq, toSeq] (for progress bars and summaries). */
export async function countEvents(
  db: Kysely<Database>,
  campaignId: string,
  range: Pick<EventRange, 'fromSeq' | 'toSeq'> = {},
): Promise<number> {
  let query = db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('campaign_id', '=', campaignId);
  if (range.fromSeq !== undefined) query = query.where('seq', '>=', range.fromSeq);
  if (range.toSeq !== undefined) query = query.where('seq', '<=', range.toSeq);
  const row = await query.executeTakeFirstOrThrow();
  return Number(row.count);
}
