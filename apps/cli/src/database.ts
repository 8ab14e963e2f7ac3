import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase } from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';

/** Connect (or fail with ServiceUnreachableError), run `work`, and always close the pool so the CLI exits. */
export async function withDatabase<T>(url: string, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  // One command runs one thing at a time; a small pool is plenty.
  const db = await connectDatabase(url, { maxConnections: 2 });
  try {
    return await work(db);
  } finally {
    await db.destroy();
  }
}
