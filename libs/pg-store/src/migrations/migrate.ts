import type { Kysely } from 'kysely';
import { NO_MIGRATIONS } from 'kysely';
import type { Database } from '../database';
import { migrationStatus } from './migration-status';
import type { MigrationReport } from './migrator';
import { asError, failedReport, migratorFor, toReport } from './migrator';

/** Apply every pending migration. Never throws: a failure is in the report's `error`. */
export async function migrateToLatest(db: Kysely<Database>): Promise<MigrationReport> {
  return toReport(await migratorFor(db).migrateToLatest());
}

export interface MigrateDownOptions {
  /** Roll back every migration after this one (it stays applied), or 'zero' for all of them. */
  readonly to?: 'zero' | (string & {});
  /** How many of the latest applied migrations to roll back; 1 when neither option is given. */
  readonly steps?: number;
}

/**
 * Roll migrations back, in one transaction. Refuses (in the report, never by throwing) a target that is not
 * applied, so a "down" never migrates up.
 */
export async function migrateDown(
  db: Kysely<Database>,
  options: MigrateDownOptions = {},
): Promise<MigrationReport> {
  const { to, steps } = options;
  if (to !== undefined && steps !== undefined)
    return failedReport('give a target migration or a number of steps, not both');
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) {
    return failedReport(`steps must be a positive integer, got ${steps}`);
  }
  const migrator = migratorFor(db);
  if (to === 'zero') return toReport(await migrator.migrateTo(NO_MIGRATIONS));

  let statuses;
  try {
    statuses = await migrationStatus(db);
  } catch (error) {
    return { results: [], error: asError(error) };
  }
  const applied = statuses.filter((m) => m.appliedAt !== null).map((m) => m.name);
  if (to !== undefined) {
    const target = statuses.find((m) => m.name === to);
    if (!target) {
      return failedReport(`no migration is named "${to}"; known: ${statuses.map((m) => m.name).join(', ')}`);
    }
    if (target.appliedAt === null)
      return failedReport(`migration "${to}" is not applied; a down migration only rolls back`);
    return toReport(await migrator.migrateTo(to));
  }
  if (applied.length === 0) return { results: [] };
  const count = steps ?? 1;
  const target = count >= applied.length ? NO_MIGRATIONS : applied[applied.length - count - 1];
  return toReport(await migrator.migrateTo(target ?? NO_MIGRATIONS));
}
