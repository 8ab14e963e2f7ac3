import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * Entity rows are rewritten at every flush that changes them, and their pages were filled to the brim:
 * each new version of a row went to another page and into all four of the table's indexes. Pages
 * filled to 70 % keep room for new versions beside the old (heap-only tuples, which touch no index
 * while region, owner and kind stay the same), at the cost of about 40 % more heap pages when fresh.
 * Measured on a 1,000,000-entity world (bench/results/NOTES.md): Postgres CPU per row of the worker's
 * flushes of all-distinct entities 23 -> 17 µs; raw UNNEST upserts 53,000 -> 74,000-95,000 rows/s.
 * Only pages written from now on are left partly empty: an existing table keeps its full pages until
 * it is rewritten (docs/deploy.md, "Postgres").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table entities set (fillfactor = 70)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table entities reset (fillfactor)`.execute(db);
}
