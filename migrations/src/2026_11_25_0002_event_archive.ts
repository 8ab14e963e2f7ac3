import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The archive of persistent events, written in the same transaction as the entities and the checkpoint.
 * Transient events (combat, dialogue) never reach it (DESIGN.md, invariant 5).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('events')
    .addColumn('campaign_id', 'text', (col) => col.notNull().references('campaigns.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (col) => col.notNull().check(sql`seq >= 1`))
    .addColumn('stream_id', 'text', (col) => col.notNull())
    .addColumn('type', 'text', (col) => col.notNull())
    .addColumn('entity_id', 'text', (col) => col.notNull())
    // The entity's version after this event.
    .addColumn('version', 'integer', (col) => col.notNull().check(sql`version >= 1`))
    .addColumn('data', 'jsonb', (col) => col.notNull())
    .addColumn('meta', 'jsonb', (col) => col.notNull())
    // When the session service committed the event (meta.at), not when the worker archived it.
    .addColumn('recorded_at', 'timestamptz', (col) => col.notNull())
    .addPrimaryKeyConstraint('events_pkey', ['campaign_id', 'seq'])
    .execute();

  // One entity's history, in order: the replay tool's "how did player:alice get here".
  await db.schema
    .createIndex('events_entity_idx')
    .on('events')
    .columns(['campaign_id', 'entity_id', 'seq'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('events').execute();
}
