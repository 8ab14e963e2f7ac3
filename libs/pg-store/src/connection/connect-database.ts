import { ServiceUnreachableError } from '@lorekeeper/config';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { DatabaseOptions } from './create-database';
import { createDatabase } from './create-database';

/**
 * A database that has answered `select 1`. Throws ServiceUnreachableError (whose message says how to
 * start PostgreSQL) when it does not, after closing the pool.
 */
export async function connectDatabase(url: string, options: DatabaseOptions = {}): Promise<Kysely<Database>> {
  const db = createDatabase(url, options);
  try {
    await sql`select 1`.execute(db);
    return db;
  } catch (error) {
    await db.destroy();
    throw new ServiceUnreachableError('PostgreSQL', url, error);
  }
}
