import type { Kysely } from 'kysely';
import type { Database } from './database';

/**
 * Run several reads against one consistent snapshot (REPEATABLE READ, read only), so a worker committing
 * in between cannot mix two checkpoints into one answer. Inside an existing transaction, uses it as is.
 */
export async function inReadSnapshot<T>(
  db: Kysely<Database>,
  work: (reader: Kysely<Database>) => Promise<T>,
): Promise<T> {
  if (db.isTransaction) return work(db);
  return db.transaction().setIsolationLevel('repeatable read').setAccessMode('read only').execute(work);
}
