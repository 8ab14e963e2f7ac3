import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * How far the archive reaches past the entity checkpoint. A flush for a major event archives the events
 * up to the head it folded and moves this position, leaving the entities and the checkpoint to the
 * next flush on the save cadence (docs/architecture.md, "Major events: the archive first"). Postgres's
 * state at `archived_seq` is the entities at the checkpoint plus the fold of the archived events after
 * it; a position at or below the checkpoint means nothing past it (the default for every campaign).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('campaigns')
    .addColumn('archived_seq', 'bigint', (col) =>
      col
        .notNull()
        .defaultTo(0)
        .check(sql`archived_seq >= 0`),
    )
    .addColumn('archived_stream_id', 'text', (col) => col.notNull().defaultTo('0-0'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('campaigns')
    .dropColumn('archived_seq')
    .dropColumn('archived_stream_id')
    .execute();
}
