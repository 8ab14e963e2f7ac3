import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * A worker's replay snapshot is copied in many short transactions beside its flushes (one long
 * REPEATABLE READ copy kept every dead row version of the hot entities alive for its whole length, and
 * the flushes slowed with it). Until its last transaction makes it consistent, a snapshot is not
 * complete, and no reader sees it. Every snapshot before this one was written in one transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('snapshots')
    .addColumn('complete', 'boolean', (col) => col.notNull().defaultTo(sql`true`))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from snapshots where not complete`.execute(db);
  await db.schema.alterTable('snapshots').dropColumn('complete').execute();
}
