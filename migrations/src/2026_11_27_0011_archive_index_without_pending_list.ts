import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The archive's entity index (GIN over each chunk's entity ids) takes new ids straight into its tree
 * instead of a pending list. With the list (Postgres's default) an insert only appended to it, until it
 * passed `gin_pending_list_limit` (4 MB, about 190,000 ids); the insert that passed it merged the whole
 * list into the tree inside its own transaction, so that flush, perhaps one a major event's append was
 * waiting on, took more than half a second longer. `npm run bench:archive-index` (8,000 chunks of 70
 * events on random entities, one transaction each): the slowest insert 603-806 ms with the list,
 * 14.5-15.7 ms without, for 10% more time in all (docs/architecture.md, "The archive"). What the list
 * holds now is merged here, once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter index event_chunks_entity_idx set (fastupdate = off)`.execute(db);
  await sql`select gin_clean_pending_list('event_chunks_entity_idx'::regclass)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter index event_chunks_entity_idx reset (fastupdate)`.execute(db);
}
