import { randomBytes } from 'node:crypto';
import { loadConfig } from '@lorekeeper/config';
import type { Database } from '@lorekeeper/pg-store';
import {
  createDatabase,
  dropDatabase,
  ensureDatabaseExists,
  migrateToLatest,
  withDatabaseName,
} from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export interface TestDatabase {
  /** DATABASE_URL of the fresh database, for processes a test spawns. */
  readonly url: string;
  readonly db: Kysely<Database>;
  /** Close the pool and drop the database, disconnecting anything still attached. */
  destroy(): Promise<void>;
}

/**
 * A URL for a database that does not exist yet, `lk_<label>_<random>`, on the server of DATABASE_URL
 * (default postgres://postgres@127.0.0.1:5432/postgres). Each test file gets its own, so files run in
 * parallel without seeing each other's rows.
 */
export function uniqueDatabaseUrl(label: string): string {
  const safe = label
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const name = `lk_${safe || 'test'}_${randomBytes(5).toString('hex')}`;
  return withDatabaseName(loadConfig().databaseUrl, name);
}

/** Create a fresh database, migrated to latest. Call `destroy()` in afterAll. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const url = uniqueDatabaseUrl(label);
  await ensureDatabaseExists(url);
  const db = createDatabase(url);
  const report = await migrateToLatest(db);
  if (report.error) {
    await db.destroy();
    await dropDatabase(url);
    throw new Error(`migrating test database ${url} failed: ${report.error.message}`, {
      cause: report.error,
    });
  }
  return {
    url,
    db,
    destroy: async () => {
      await db.destroy();
      await dropDatabase(url);
    },
  };
}

/** Drop a database made with uniqueDatabaseUrl (for tests that let a spawned process create it). */
export { dropDatabase as dropTestDatabase } from '@lorekeeper/pg-store';

/**
 * The statements of the connections to this database that wait for a lock now (from
 * `pg_stat_activity`): a test holding a lock sees who has reached it.
 */
export async function lockWaiters(db: Kysely<Database>): Promise<string[]> {
  const { rows } = await sql<{ query: string }>`
    select query from pg_stat_activity
    where datname = current_database() and wait_event_type = 'Lock'`.execute(db);
  return rows.map((row) => row.query);
}
