import type { MigrationReport, MigrationStatus } from '@lorekeeper/pg-store';

/** What a migrate run leaves behind, for the report. */
export interface Summary {
  readonly database: string;
  readonly created: boolean;
  readonly applied: number;
  readonly total: number;
  /** The database does not exist (a --down on nothing). */
  readonly missing?: boolean;
}

const VERB = {
  Up: { Success: 'applied', Error: 'FAILED', NotExecuted: 'not run' },
  Down: { Success: 'rolled back', Error: 'FAILED', NotExecuted: 'not run' },
} as const;

/** The machine form: stable keys, kysely's direction and status values. */
export function reportJson(report: MigrationReport, summary: Summary): unknown {
  return {
    ok: report.error === undefined,
    database: summary.database,
    created: summary.created,
    exists: summary.missing !== true,
    results: report.results.map((r) => ({
      migration: r.migrationName,
      direction: r.direction,
      status: r.status,
    })),
    applied: summary.applied,
    total: summary.total,
    ...(report.error
      ? { error: { message: report.error.message, migration: failedMigration(report) ?? null } }
      : {}),
  };
}

export function describeReport(report: MigrationReport, summary: Summary): string {
  const lines: string[] = [];
  if (summary.missing) return `Database ${summary.database} does not exist; nothing to roll back.`;
  if (summary.created) lines.push(`Created database ${summary.database}.`);
  for (const r of report.results)
    lines.push(`  ${VERB[r.direction][r.status].padEnd(12)} ${r.migrationName}`);
  if (report.error) return lines.join('\n');
  if (report.results.length === 0) lines.push('Nothing to do.');
  lines.push(`Database ${summary.database}: ${summary.applied} of ${summary.total} migrations applied.`);
  return lines.join('\n');
}

export function failureMessage(report: MigrationReport): string {
  const failed = failedMigration(report);
  const reason = report.error?.message ?? 'unknown error';
  return failed
    ? `migration ${failed} failed, and the run was rolled back (nothing changed): ${reason}`
    : `migration refused: ${reason}`;
}

export function describeStatus(
  database: string,
  exists: boolean,
  migrations: readonly MigrationStatus[],
): string {
  const lines = [
    exists
      ? `Database ${database}:`
      : `Database ${database} does not exist yet; \`lorekeeper migrate\` creates it and applies:`,
  ];
  for (const m of migrations) {
    const state = m.appliedAt === null ? 'pending' : `applied ${m.appliedAt.toISOString()}`;
    const note = m.known ? '' : '  (not in this build: the database is newer than this CLI)';
    lines.push(`  ${state.padEnd(33)} ${m.name}${note}`);
  }
  const applied = migrations.filter((m) => m.appliedAt !== null).length;
  lines.push(`${applied} applied, ${migrations.length - applied} pending.`);
  return lines.join('\n');
}

function failedMigration(report: MigrationReport): string | undefined {
  return report.results.find((r) => r.status === 'Error')?.migrationName;
}
