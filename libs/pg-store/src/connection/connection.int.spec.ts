import { ServiceUnreachableError } from '@lorekeeper/config';
import {
  connectDatabase,
  createDatabase,
  databaseExists,
  dropDatabase,
  ensureDatabaseExists,
} from '../index';
import { uniqueDatabaseUrl } from '@lorekeeper/testing';
import { sql } from 'kysely';

describe('connecting to PostgreSQL', () => {
  it('throws ServiceUnreachableError naming PostgreSQL and how to start it when nothing listens', async () => {
    const closed = 'postgres://postgres@127.0.0.1:1/lorekeeper';
    const error: unknown = await connectDatabase(closed).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceUnreachableError);
    expect((error as Error).message).toMatch(
      /cannot reach PostgreSQL at .*127\.0\.0\.1:1.*ECONNREFUSED.*Start it with/,
    );
    await expect(ensureDatabaseExists(closed)).rejects.toBeInstanceOf(ServiceUnreachableError);
  });

  it('creates a missing database once when many callers race, and drops it', async () => {
    const url = uniqueDatabaseUrl('ensure');
    expect(await databaseExists(url)).toBe(false);
    try {
      const created = await Promise.all(Array.from({ length: 5 }, () => ensureDatabaseExists(url)));
      expect(created.filter(Boolean)).toHaveLength(1);
      expect(await databaseExists(url)).toBe(true);
      expect(await ensureDatabaseExists(url)).toBe(false);
    } finally {
      await dropDatabase(url);
    }
    expect(await databaseExists(url)).toBe(false);
  });

  it('drops a database that still has open connections', async () => {
    const url = uniqueDatabaseUrl('drop');
    await ensureDatabaseExists(url);
    const db = await connectDatabase(url);
    await dropDatabase(url);
    expect(await databaseExists(url)).toBe(false);
    await db.destroy();
  });

  it('reads bigint as a JS number, and refuses one that would lose precision', async () => {
    const url = uniqueDatabaseUrl('int8');
    await ensureDatabaseExists(url);
    const db = createDatabase(url);
    try {
      const safe = await sql<{ n: unknown }>`select ${Number.MAX_SAFE_INTEGER}::int8 as n`.execute(db);
      expect(safe.rows[0]?.n).toBe(Number.MAX_SAFE_INTEGER);
      const count = await sql<{ n: unknown }>`select count(*) as n from generate_series(1, 3)`.execute(db);
      expect(count.rows[0]?.n).toBe(3);
      await expect(sql`select 9007199254740993::int8 as n`.execute(db)).rejects.toThrow(/does not fit/);
    } finally {
      await db.destroy();
      await dropDatabase(url);
    }
  });
});
