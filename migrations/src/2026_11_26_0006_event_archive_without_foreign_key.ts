import type { Kysely } from 'kysely';

/**
 * The event archive keeps no foreign key to `campaigns`. Its one writer, the worker's flush, archives a
 * campaign's events in the transaction that moves that campaign's checkpoint by compare-and-set, and
 * rolls back when no row moved, so an event row never commits without its campaign (pinned by
 * apps/persistence-worker/src/flush.int.spec.ts). The key's check ran once per archived row and cost
 * about a third of the archive's insert time (28,500 rows: 315-500 ms with it, 210-280 ms without,
 * measured on the development machine); the archive is most of a flush. Campaigns are never deleted.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('events').dropConstraint('events_campaign_id_fkey').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('events')
    .addForeignKeyConstraint('events_campaign_id_fkey', ['campaign_id'], 'campaigns', ['id'])
    .onDelete('cascade')
    .execute();
}
