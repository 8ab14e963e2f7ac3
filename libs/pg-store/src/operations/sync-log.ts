import type { Kysely } from 'kysely';
import type { Database } from '../database';
import type { SyncLogEntry, SyncRecord } from './sync-log.table';
import { toSyncLogEntry } from './sync-log.table';

/**
 * Log a flush. Pass the flush's transaction for a committed flush (the row commits with it) and `db` for
 * a failed one (its transaction rolled back, the record of the failure must not). Returns the row's id.
 */
export async function recordSync(db: Kysely<Database>, record: SyncRecord): Promise<number> {
  const row = await db
    .insertInto('sync_log')
    .values({
      campaign_id: record.campaignId,
      from_seq: record.fromSeq,
      to_seq: record.toSeq,
      entities_written: record.entitiesWritten,
      entities_deleted: record.entitiesDeleted,
      events_archived: record.eventsArchived,
      duration_ms: Math.round(record.durationMs),
      trigger: record.trigger,
      error: record.error ?? null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** A campaign's most recent flushes, newest first. */
export async function readSyncLog(
  db: Kysely<Database>,
  campaignId: string,
  limit = 100,
): Promise<SyncLogEntry[]> {
  const rows = await db
    .selectFrom('sync_log')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toSyncLogEntry);
}
