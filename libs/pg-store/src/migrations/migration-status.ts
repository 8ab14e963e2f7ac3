import { migrations } from '@lorekeeper/migrations';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import { migratorFor } from './migrator';

export interface MigrationStatus {
  readonly name: string;
  /** When it was applied; null while pending. */
  readonly appliedAt: Date | null;
  /** False for a migration the database records but this build does not have: the database is newer. */
  readonly known: boolean;
}

/** The names of the migrations in this build, in the order they apply; no database needed. */
export function migrationNames(): string[] {
  return Object.keys(migrations).sort();
}

/** Every migration this build knows and every one the database records, by name. */
export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus[]> {
  const known = await migratorFor(db).getMigrations();
  const statuses: MigrationStatus[] = known.map((m) => ({
    name: m.name,
    appliedAt: m.executedAt ?? null,
    known: true,
  }));
  const knownNames = new Set(statuses.map((m) => m.name));
  for (const row of await recordedMigrations(db)) {
    if (!knownNames.has(row.name))
      statuses.push({ name: row.name, appliedAt: new Date(row.timestamp), known: false });
  }
  return statuses.sort((a, b) => a.name.localeCompare(b.name));
}

/** Kysely's own bookkeeping table, read directly because the Migrator lists only the migrations it has. */
async function recordedMigrations(db: Kysely<Database>): Promise<{ name: string; timestamp: string }[]> {
  const table = await sql<{
    exists: boolean;
  }>`select to_regclass('kysely_migration') is not null as exists`.execute(db);
  if (!table.rows[0]?.exists) return [];
  const rows = await sql<{
    name: string;
    timestamp: string;
  }>`select name, timestamp from kysely_migration`.execute(db);
  return rows.rows;
}
