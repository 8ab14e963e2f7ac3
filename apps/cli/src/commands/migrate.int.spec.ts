import { createDatabase, migrationNames } from '@lorekeeper/pg-store';
import { dropTestDatabase, uniqueDatabaseUrl } from '@lorekeeper/testing';
import { sql } from 'kysely';
import { assertCliBuilt, runCli } from '../test/run-cli';

const lorekeeper = (args: readonly string[], databaseUrl: string) =>
  runCli(args, { DATABASE_URL: databaseUrl });

describe('lorekeeper migrate', () => {
  const url = uniqueDatabaseUrl('cli_migrate');

  beforeAll(() => {
    assertCliBuilt();
  });
  afterAll(async () => {
    await dropTestDatabase(url);
  });

  it('creates the database and migrates it from three processes at once, applying each migration once', async () => {
    const runs = await Promise.all([1, 2, 3].map(() => lorekeeper(['migrate', '--json'], url)));
    for (const run of runs) expect(run).toMatchObject({ code: 0, stderr: '' });
    const reports = runs.map(
      (run) => JSON.parse(run.stdout) as { ok: boolean; created: boolean; results: unknown[] },
    );
    expect(reports.every((r) => r.ok)).toBe(true);
    expect(reports.filter((r) => r.created)).toHaveLength(1);
    // One process applied everything; the others waited on the lock and found nothing to do.
    expect(reports.map((r) => r.results.length).sort()).toEqual([0, 0, migrationNames().length]);

    const db = createDatabase(url);
    try {
      const tables = await sql<{ table_name: string; copies: number }>`
        select table_name, count(*)::int as copies from information_schema.tables
        where table_name in ('campaigns', 'entities', 'event_chunks', 'events', 'snapshots', 'snapshot_entities', 'dead_letters', 'sync_log')
        group by table_name`.execute(db);
      expect(tables.rows).toHaveLength(8);
      expect(tables.rows.every((row) => row.copies === 1)).toBe(true);
      const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(
        db,
      );
      expect(applied.rows.map((row) => row.name)).toEqual(migrationNames());
    } finally {
      await db.destroy();
    }
  });

  it('lists applied migrations with --status --json', async () => {
    const run = await lorekeeper(['migrate', '--status', '--json'], url);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      exists: boolean;
      migrations: { name: string; appliedAt: string | null }[];
    };
    expect(status.exists).toBe(true);
    expect(status.migrations.map((m) => m.name)).toEqual(migrationNames());
    expect(status.migrations.every((m) => m.appliedAt !== null)).toBe(true);
  });

  it('rolls back with --down --to zero, then migrates up again in human output', async () => {
    const down = await lorekeeper(['migrate', '--down', '--to', 'zero'], url);
    expect(down.code).toBe(0);
    expect(down.stdout).toContain(`0 of ${migrationNames().length} migrations applied`);
    const status = await lorekeeper(['migrate', '--status'], url);
    expect(status.stdout).toContain(`0 applied, ${migrationNames().length} pending.`);
    const up = await lorekeeper(['migrate'], url);
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(
      `${migrationNames().length} of ${migrationNames().length} migrations applied`,
    );
  });

  it('exits 1 when a rollback target does not exist, changing nothing', async () => {
    const run = await lorekeeper(['migrate', '--down', '--to', 'no_such_migration'], url);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no migration is named "no_such_migration"');
  });

  it('exits 2 on usage errors', async () => {
    const usages = [
      ['migrate', '--to', 'zero'],
      ['migrate', '--status', '--down'],
      ['migrate', '--down', '--steps', 'many'],
      ['migrate', '--no-such-option'],
      ['no-such-command'],
    ];
    const runs = await Promise.all(usages.map((args) => lorekeeper(args, url)));
    expect(runs.map((run) => run.code)).toEqual(usages.map(() => 2));
  });

  it('shows help with an example for the program and for migrate', async () => {
    const program = await lorekeeper(['--help'], url);
    expect(program.code).toBe(0);
    expect(program.stdout).toMatch(/Examples?:\n\s+\$ .*lorekeeper migrate/);
    const migrate = await lorekeeper(['migrate', '--help'], url);
    expect(migrate.code).toBe(0);
    expect(migrate.stdout).toMatch(/Examples:\n\s+\$ lorekeeper migrate/);
  });

  it('exits 3 and says how to start PostgreSQL when nothing listens at DATABASE_URL', async () => {
    const run = await lorekeeper(['migrate'], 'postgres://postgres@127.0.0.1:1/lorekeeper');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot reach PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/lorekeeper/);
    expect(run.stderr).toMatch(/Start it with `docker compose up -d postgres`/);
    expect(run.stderr).toMatch(/DATABASE_URL/);
  });
});
