import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/** The archive's entity id arrays: a chunk's (up to 1,000 ids) and a range's (every id of a flush). */
const COLUMNS = [
  ['event_chunks', 'entity_ids'],
  ['event_entity_ranges', 'entity_ids'],
] as const;

/**
 * The archive's entity id arrays are compressed with lz4, as its events have been since migration 0007;
 * they were left at Postgres's default, pglz. Arrays like a catch-up's (270 of 1,000 ids and 30 of
 * 6,000, 7.8 MB) took 130-176 ms to insert with pglz and 21-25 ms with lz4, about the same size
 * (bench/results/NOTES.md). Only values written from now on change: each stored value records its own
 * method, so existing rows read as before; `down` returns new values to the server's default.
 *
 * A server built without lz4 keeps its default: the migration checks `default_toast_compression`'s
 * choices rather than fail.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await setCompression(db, 'lz4');
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await setCompression(db, 'default');
}

async function setCompression(db: Kysely<unknown>, method: 'lz4' | 'default'): Promise<void> {
  if (!(await serverHasLz4(db))) return;
  for (const [table, column] of COLUMNS) {
    await sql`alter table ${sql.table(table)} alter column ${sql.ref(column)} set compression ${sql.raw(method)}`.execute(
      db,
    );
  }
}

async function serverHasLz4(db: Kysely<unknown>): Promise<boolean> {
  const { rows } = await sql<{ lz4: boolean }>`
    select coalesce(bool_or('lz4' = any(enumvals)), false) as lz4
    from pg_settings where name = 'default_toast_compression'`.execute(db);
  return rows[0]?.lz4 === true;
}
