import type { Kysely } from 'kysely';

/** Why an operator retried or skipped a dead letter (`lorekeeper dead-letters skip --reason`). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('dead_letters').addColumn('resolution_reason', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('dead_letters').dropColumn('resolution_reason').execute();
}
