import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { SyncLogEntry, SyncRecord } from './sync-log.table';
import { toSyncLogEntry } from './sync-log.table';

/**
 * Log a flush. Pass the flush's transaction for a committed flush (the row commits with it) and `db` for
 * a failed one (its transaction rolled back, the record of the failure must not). Returns the row's id.
 */
export async function recordSync(db: Kysely<Database>, record: SyncRecord): Promise<number> {
  const row = await syncLogInsert(db, record).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

/**
 * The statement that logs a flush, not run: a flush runs it inside the statement that archives its
 * events (archiveEvents' `alongside`), one round trip instead of two.
 */
export function syncLogInsert(db: Kysely<Database>, record: SyncRecord) {
  return db.insertInto('sync_log').values({
    campaign_id: record.campaignId,
    from_seq: record.fromSeq,
    to_seq: record.toSeq,
    entities_written: record.entitiesWritten,
    entities_deleted: record.entitiesDeleted,
    events_archived: record.eventsArchived,
    duration_ms: Math.round(record.durationMs),
    trigger: record.trigger,
    error: record.error ?? null,
  });
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

/** Rows of the sync log one pruning statement looks at (by id), so no statement runs for long. */
export const SYNC_LOG_PRUNE_BATCH = 10_000;

/**
 * Delete the flushes logged before `before`, except each campaign's latest committed one (what
 * `lorekeeper streams` shows as the last flush, however long ago it was). The worker calls this with
 * SYNC_LOG_KEEP_DAYS: in continuous mode a busy campaign logs a flush every few tens of milliseconds.
 * Works through the ids below the newest old row, `batch` ids per statement. Returns how many went.
 */
export async function pruneSyncLog(
  db: Kysely<Database>,
  before: Date,
  batch = SYNC_LOG_PRUNE_BATCH,
): Promise<number> {
  const range = await db
    .selectFrom('sync_log')
    .select((eb) => [eb.fn.min('id').as('first'), eb.fn.max('id').as('last')])
    .where('created_at', '<', before)
    .executeTakeFirst();
  if (range?.first == null || range.last == null) return 0;
  let deleted = 0;
  for (let from = Number(range.first); from <= Number(range.last); from += batch) {
    const to = Math.min(from + batch - 1, Number(range.last));
    const result = await sql`
      delete from sync_log s
       where s.id between ${from} and ${to}
         and s.created_at < ${before}
         and s.id < (select max(l.id) from sync_log l where l.campaign_id = s.campaign_id and l.error is null)`.execute(
      db,
    );
    deleted += Number(result.numAffectedRows ?? 0);
  }
  return deleted;
}
