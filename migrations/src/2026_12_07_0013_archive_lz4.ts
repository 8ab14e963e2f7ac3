import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The archive's entity id arrays (a chunk's, up to 1,000 ids, and a range's, every id of a flush) are
 * compressed with lz4, as its events have been since migration 0007; they were left at Postgres's
 * default, pglz. Arrays like a catch-up's (270 of 1,000 ids and 30 of 6,000, 7.8 MB) took 130-176 ms to
 * insert with pglz and 21-25 ms with lz4, about the same size (bench/results/NOTES.md). Only values
 * written from now on change: each stored value records its own method, so existing rows read as
 * before; `down` returns new values to the server's default. A server built without lz4 keeps its
 * default, as in 0007.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`do $$ begin
              alter table event_chunks alter column entity_ids set compression lz4;
              alter table event_entity_ranges alter column entity_ids set compression lz4;
            exception when feature_not_supported then null;
            end $$`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table event_chunks alter column entity_ids set compression default`.execute(db);
  await sql`alter table event_entity_ranges alter column entity_ids set compression default`.execute(db);
}
