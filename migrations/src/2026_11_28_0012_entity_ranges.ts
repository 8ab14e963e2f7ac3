import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The archive's entity index moves from each chunk to each range of seqs a flush on the save cadence
 * makes durable. `event_entity_ranges` holds per range every entity an event of it is about, once,
 * under a GIN index; the chunks lose theirs (their `entity_ids` stay, and a read filters on them). Why:
 * a major event's flush archives the few dozen events since the last one as a chunk of its own, so
 * nearly every event put an entry into the chunk index, and that index was most of the flush's
 * statement (bench/results/NOTES.md). A range gathers its chunks' ids once each. The chunks past the
 * last range (at most a backlog bound of events) are found by their own `entity_ids`
 * (docs/architecture.md, "The archive").
 *
 * Existing chunks become one range each, which reads the same; `down` puts the chunk index back.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('event_entity_ranges')
    .addColumn('campaign_id', 'text', (col) => col.notNull())
    .addColumn('first_seq', 'bigint', (col) => col.notNull().check(sql`first_seq >= 1`))
    .addColumn('last_seq', 'bigint', (col) => col.notNull())
    .addColumn('entity_ids', sql`text[]`, (col) => col.notNull())
    .addPrimaryKeyConstraint('event_entity_ranges_pkey', ['campaign_id', 'first_seq'])
    .addCheckConstraint('event_entity_ranges_range', sql`last_seq >= first_seq`)
    .execute();
  await db.schema
    .createIndex('event_entity_ranges_last_seq_idx')
    .on('event_entity_ranges')
    .columns(['campaign_id', 'last_seq'])
    .unique()
    .execute();
  await sql`insert into event_entity_ranges (campaign_id, first_seq, last_seq, entity_ids)
            select campaign_id, first_seq, last_seq, entity_ids from event_chunks`.execute(db);
  // Built once the rows are in, and without a pending list, as the chunk index was (migration 0011).
  await sql`create index event_entity_ranges_entity_idx on event_entity_ranges using gin (entity_ids)
            with (fastupdate = off)`.execute(db);
  await sql`drop index event_chunks_entity_idx`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create index event_chunks_entity_idx on event_chunks using gin (entity_ids)
            with (fastupdate = off)`.execute(db);
  await db.schema.dropTable('event_entity_ranges').execute();
}
