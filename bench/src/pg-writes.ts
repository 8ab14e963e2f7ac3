import type { Database } from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/*
 * Postgres rows a contender has written for one campaign so far, counted from the rows themselves.
 * (pg_stat_user_tables would be simpler, but an idle backend may hold its counts back for up to 10 s.)
 */

/**
 * The worker's writes: per flush, the entities it wrote or deleted (as its sync_log row records them),
 * the sync_log row itself and the checkpoint update on `campaigns` (a failed flush leaves only its log
 * row); the archive's chunk rows (up to 1,000 events each) and its entity index's range rows (one per
 * flush on the save cadence); plus any replay snapshots it took, with their entity rows.
 */
export async function lorekeeperRowsWritten(db: Kysely<Database>, campaignId: string): Promise<number> {
  const { rows } = await sql<{ n: string | null }>`
    select
      (select coalesce(sum(case when error is null then entities_written + entities_deleted + 2 else 1 end), 0)
         from sync_log where campaign_id = ${campaignId})
      + (select count(*) from event_chunks where campaign_id = ${campaignId})
      + (select count(*) from event_entity_ranges where campaign_id = ${campaignId})
      + ${snapshotRows(campaignId)} as n`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/** The rows replay snapshots of the campaign wrote: each snapshot's row and its entity rows. */
const snapshotRows = (campaignId: string) => sql<number>`(
  (select count(*) from snapshots where campaign_id = ${campaignId})
  + (select count(*) from snapshot_entities se join snapshots s on s.id = se.snapshot_id
      where s.campaign_id = ${campaignId}))`;

/** Of `lorekeeperRowsWritten`, the replay snapshots' share: their rows and their entity rows. */
export async function lorekeeperSnapshotRowsWritten(
  db: Kysely<Database>,
  campaignId: string,
): Promise<number> {
  const { rows } = await sql<{ n: string | null }>`select ${snapshotRows(campaignId)} as n`.execute(db);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Replay snapshots of the campaign being copied: the worker copies one paced, chunk by chunk, resting
 * three quarters of the time (docs/replay.md), so an idle moment in `pg_stat_activity` does not mean
 * a copy ended; its row, incomplete until the copy ends or is dropped, does.
 */
export async function snapshotsBeingCopied(db: Kysely<Database>, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('snapshots')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('complete', '=', false)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

/**
 * Run a checkpoint to its end, so what is timed next starts from clean buffers with no checkpoint in
 * progress. A mix catch-up writes hundreds of MB of WAL, so Postgres begins a checkpoint of its own
 * (`max_wal_size`) near its end, and whatever runs next shares the cores with it and with the
 * eviction of the catch-up's dirty buffers. Needs superuser or `pg_checkpoint`; without it the
 * caller is told (false) and the state is left as it is.
 */
export async function checkpoint(db: Kysely<Database>): Promise<boolean> {
  try {
    await sql`CHECKPOINT`.execute(db);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '42501') return false;
    throw error;
  }
}

/** Write-through writes exactly two rows per applied event: its entity (update or insert) and the event. */
export async function writeThroughRowsWritten(db: Kysely<Database>, campaignId: string): Promise<number> {
  const { rows } = await sql<{
    n: string;
  }>`select count(*) as n from write_through_events where campaign_id = ${campaignId}`.execute(db);
  return 2 * Number(rows[0]?.n ?? 0);
}
