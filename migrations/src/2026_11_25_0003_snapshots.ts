import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Named save slots. A snapshot is a header row plus one row per entity (not one jsonb document), so a
 * campaign of a million entities is copied server-side with INSERT ... SELECT and read back page by page,
 * and no single value approaches Postgres's 1 GB limit.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('snapshots')
    .addColumn('id', 'bigserial', (col) => col.primaryKey())
    .addColumn('campaign_id', 'text', (col) => col.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('name', 'text', (col) => col.notNull())
    // The campaign's checkpoint when the snapshot was taken: the snapshot is the state after this event.
    .addColumn('seq', 'bigint', (col) => col.notNull().check(sql`seq >= 0`))
    .addColumn('entity_count', 'integer', (col) => col.notNull())
    .addColumn('created_at', 'timestamptz', (col) => col.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('snapshots_campaign_name_key', ['campaign_id', 'name'])
    .execute();

  await db.schema
    .createTable('snapshot_entities')
    .addColumn('snapshot_id', 'bigint', (col) => col.notNull().references('snapshots.id').onDelete('cascade'))
    .addColumn('id', 'text', (col) => col.notNull())
    .addColumn('kind', 'text', (col) => col.notNull())
    .addColumn('version', 'integer', (col) => col.notNull())
    .addColumn('state', 'jsonb', (col) => col.notNull())
    .addPrimaryKeyConstraint('snapshot_entities_pkey', ['snapshot_id', 'id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('snapshot_entities').execute();
  await db.schema.dropTable('snapshots').execute();
}
