import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** What the persistence worker reports about itself: quarantined events and every flush. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('dead_letters')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('campaign_id', 'text', (col) => col.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('stream_id', 'text', (col) => col.notNull())
    // Null when the entry was too broken to carry a seq.
    .addColumn('seq', 'bigint')
    // The stream entry as it was read; an entry that is not JSON is kept as {"raw": "..."}.
    .addColumn('payload', 'jsonb', (col) => col.notNull())
    .addColumn('error', 'text', (col) => col.notNull())
    .addColumn('attempts', 'integer', (col) =>
      col
        .notNull()
        .defaultTo(1)
        .check(sql`attempts >= 1`),
    )
    .addColumn('status', 'text', (col) =>
      col
        .notNull()
        .defaultTo('open')
        .check(sql`status in ('open', 'retried', 'skipped')`),
    )
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addColumn('resolved_at', 'timestamptz')
    .addColumn('resolved_by', 'text')
    .addCheckConstraint('dead_letters_resolution_check', sql`(status = 'open') = (resolved_at is null)`)
    .execute();

  // At most one open dead letter per stream entry: a worker that fails on the same entry again (after a
  // restart, say) counts another attempt instead of adding a row.
  await db.schema
    .createIndex('dead_letters_open_entry_key')
    .on('dead_letters')
    .columns(['campaign_id', 'stream_id'])
    .unique()
    .where(sql.ref('status'), '=', 'open')
    .execute();
  await db.schema
    .createIndex('dead_letters_status_idx')
    .on('dead_letters')
    .columns(['status', 'campaign_id'])
    .execute();

  await db.schema
    .createTable('sync_log')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('campaign_id', 'text', (col) => col.notNull().references('campaigns.id').onDelete('cascade'))
    // The flush covered events from_seq..to_seq (inclusive); from_seq > to_seq means there was nothing new.
    .addColumn('from_seq', 'bigint', (col) => col.notNull())
    .addColumn('to_seq', 'bigint', (col) => col.notNull())
    .addColumn('entities_written', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('entities_deleted', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('events_archived', 'integer', (col) => col.notNull().defaultTo(0))
    .addColumn('duration_ms', 'integer', (col) => col.notNull())
    // autosave | major | manual | session-end | backlog; free text so a new trigger needs no migration.
    .addColumn('trigger', 'text', (col) => col.notNull())
    .addColumn('error', 'text')
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('sync_log_campaign_idx')
    .on('sync_log')
    .columns(['campaign_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sync_log').execute();
  await db.schema.dropTable('dead_letters').execute();
}
