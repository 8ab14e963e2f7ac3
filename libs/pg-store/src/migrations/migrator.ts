import { migrations } from '@lorekeeper/migrations';
import type { Kysely, MigrationProvider, MigrationResult, MigrationResultSet } from 'kysely';
import { Migrator } from 'kysely';
import type { Database } from '../database';

/** The migrations compiled into this build; no folder is scanned at runtime. */
const provider: MigrationProvider = { getMigrations: async () => migrations };

/**
 * Kysely's Migrator over our static migrations. It is safe to run from several processes at once: it
 * takes a session-level advisory lock (`pg_advisory_lock`) around the whole run and applies the pending
 * migrations in one transaction, so a second process waits, then finds nothing left to do.
 */
export function migratorFor(db: Kysely<Database>): Migrator {
  return new Migrator({ db, provider });
}

/** What a migration run did, in kysely's MigrationResultSet style, with the error always an Error. */
export interface MigrationReport {
  /** Each migration the run touched, in order; a failed one is 'Error' and those after it 'NotExecuted'. */
  readonly results: readonly MigrationResult[];
  /** Why the run failed; absent on success. The run is one transaction, so on failure nothing changed. */
  readonly error?: Error;
}

export function toReport(resultSet: MigrationResultSet): MigrationReport {
  const results = resultSet.results ?? [];
  if (resultSet.error === undefined) return { results };
  return { results, error: asError(resultSet.error) };
}

/** Kysely types a run's error as unknown; the report always holds an Error. */
export function asError(error: unknown): Error {
  if (error instanceof Error) return error;
  return new Error(typeof error === 'string' ? error : `migration failed: ${JSON.stringify(error)}`);
}

export function failedReport(message: string): MigrationReport {
  return { results: [], error: new Error(message) };
}
