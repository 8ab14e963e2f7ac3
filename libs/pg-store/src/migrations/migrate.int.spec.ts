import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';
import { sql } from 'kysely';
import { migrateDown, migrateToLatest, migrationNames, migrationStatus } from '../index';

const TABLES = [
  'campaigns',
  'dead_letters',
  'entities',
  'event_chunks',
  'event_entity_ranges',
  'events',
  'snapshot_entities',
  'snapshots',
  'sync_log',
];

describe('migrations', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('migrate');
  });
  afterAll(async () => {
    await test.destroy();
  });

  /** Our tables; kysely's own bookkeeping tables stay through a full rollback by design. */
  async function tables(): Promise<string[]> {
    const result = await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(test.db);
    return result.rows.map((row) => row.table_name);
  }

  it('leaves every table in place at latest, with every migration applied', async () => {
    expect(await tables()).toEqual(TABLES);
    const status = await migrationStatus(test.db);
    expect(status.map((m) => m.name)).toEqual(migrationNames());
    expect(status.every((m) => m.appliedAt instanceof Date && m.known)).toBe(true);
  });

  it('rolls back to zero, removing every table, and migrates up again', async () => {
    const down = await migrateDown(test.db, { to: 'zero' });
    expect(down.error).toBeUndefined();
    expect(down.results.map((r) => [r.migrationName, r.direction, r.status])).toEqual(
      [...migrationNames()].reverse().map((name) => [name, 'Down', 'Success']),
    );
    expect(await tables()).toEqual([]);
    expect((await migrationStatus(test.db)).every((m) => m.appliedAt === null)).toBe(true);

    const up = await migrateToLatest(test.db);
    expect(up.error).toBeUndefined();
    expect(up.results.map((r) => r.status)).toEqual(migrationNames().map(() => 'Success'));
    expect(await tables()).toEqual(TABLES);
  });

  it('reports nothing to do when already at latest', async () => {
    const again = await migrateToLatest(test.db);
    expect(again).toEqual({ results: [] });
  });

  it('rolls back by steps and to a named migration, which stays applied', async () => {
    const names = migrationNames();
    const stepped = await migrateDown(test.db, { steps: 2 });
    expect(stepped.error).toBeUndefined();
    expect(stepped.results.map((r) => r.migrationName)).toEqual(names.slice(-2).reverse());

    const first = names[0]!;
    const toFirst = await migrateDown(test.db, { to: first });
    expect(toFirst.error).toBeUndefined();
    const applied = (await migrationStatus(test.db)).filter((m) => m.appliedAt !== null).map((m) => m.name);
    expect(applied).toEqual([first]);
    expect(await tables()).toEqual(['campaigns', 'entities']);

    expect((await migrateToLatest(test.db)).error).toBeUndefined();
  });

  it('refuses, in the report and without throwing, a down target that is unknown or not applied', async () => {
    const unknown = await migrateDown(test.db, { to: 'nope' });
    expect(unknown.error?.message).toMatch(/no migration is named "nope"/);
    expect(unknown.results).toEqual([]);

    await migrateDown(test.db, { steps: 1 });
    const pending = await migrateDown(test.db, { to: migrationNames().at(-1)! });
    expect(pending.error?.message).toMatch(/is not applied/);
    expect((await migrateToLatest(test.db)).error).toBeUndefined();

    expect((await migrateDown(test.db, { steps: 0 })).error?.message).toMatch(/positive integer/);
    expect(await tables()).toEqual(TABLES);
  });
});
