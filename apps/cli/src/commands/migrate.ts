import { loadConfig } from '@lorekeeper/config';
import type { MigrateDownOptions, MigrationReport } from '@lorekeeper/pg-store';
import {
  databaseExists,
  databaseNameOf,
  ensureDatabaseExists,
  migrateDown,
  migrateToLatest,
  migrationNames,
  migrationStatus,
} from '@lorekeeper/pg-store';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { withDatabase } from '../database';
import { CommandFailedError } from '../errors';
import type { Output } from '../output';
import { createOutput } from '../output';
import type { Summary } from './migrate-format';
import { describeReport, describeStatus, failureMessage, reportJson } from './migrate-format';

interface MigrateOptions {
  readonly status?: boolean;
  readonly down?: boolean;
  readonly to?: string;
  readonly steps?: number;
  readonly json?: boolean;
}

export function registerMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description(
      'Create the database if it is missing and apply pending migrations (or list or roll them back).',
    )
    .option('--status', 'list applied and pending migrations; changes nothing')
    .option('--down', 'roll back the latest migration (or more, with --to or --steps)')
    .option(
      '--to <name|zero>',
      'with --down: roll back every migration after <name>, or all of them with "zero"',
    )
    .option('--steps <n>', 'with --down: roll back the latest <n> migrations', positiveInteger)
    .option('--json', 'print one JSON document instead of text')
    .addHelpText(
      'after',
      `
Migrations run in one transaction under a Postgres advisory lock, so several processes may run this at
once: one applies, the others wait and find nothing left to do.

Examples:
  $ lorekeeper migrate
  $ lorekeeper migrate --status --json
  $ lorekeeper migrate --down --to 2026_11_25_0001_campaigns_and_entities
  $ lorekeeper migrate --down --to zero`,
    )
    .action(async (options: MigrateOptions, command: Command) => {
      checkCombination(options, command);
      const out = createOutput(options.json === true);
      const url = loadConfig().databaseUrl;
      if (options.status) await showStatus(url, out);
      else if (options.down) await rollBack(url, options, out);
      else await migrateUp(url, out);
    });
}

async function migrateUp(url: string, out: Output): Promise<void> {
  const created = await ensureDatabaseExists(url);
  const { report, applied } = await withDatabase(url, async (db) => {
    const result = await migrateToLatest(db);
    const statuses = await migrationStatus(db);
    return { report: result, applied: statuses.filter((m) => m.appliedAt !== null).length };
  });
  finish(out, report, { database: databaseNameOf(url), created, applied, total: migrationNames().length });
}

async function rollBack(url: string, options: MigrateOptions, out: Output): Promise<void> {
  const database = databaseNameOf(url);
  const total = migrationNames().length;
  if (!(await databaseExists(url))) {
    finish(out, { results: [] }, { database, created: false, applied: 0, total, missing: true });
    return;
  }
  const { report, applied } = await withDatabase(url, async (db) => {
    const request: MigrateDownOptions =
      options.to !== undefined
        ? { to: options.to }
        : options.steps !== undefined
          ? { steps: options.steps }
          : {};
    const result = await migrateDown(db, request);
    const statuses = await migrationStatus(db);
    return { report: result, applied: statuses.filter((m) => m.appliedAt !== null).length };
  });
  finish(out, report, { database, created: false, applied, total });
}

async function showStatus(url: string, out: Output): Promise<void> {
  const database = databaseNameOf(url);
  const exists = await databaseExists(url);
  const migrations = exists
    ? await withDatabase(url, migrationStatus)
    : migrationNames().map((name) => ({ name, appliedAt: null, known: true }));
  out.result({ ok: true, database, exists, migrations }, () => describeStatus(database, exists, migrations));
}

function finish(out: Output, report: MigrationReport, summary: Summary): void {
  out.result(reportJson(report, summary), () => describeReport(report, summary));
  if (report.error) throw new CommandFailedError(failureMessage(report), true);
}

function checkCombination(options: MigrateOptions, command: Command): void {
  const usage = (message: string): never =>
    command.error(`error: ${message}`, { exitCode: 2, code: 'lorekeeper.usage' });
  if (options.status && options.down) usage('--status and --down cannot be combined');
  if (!options.down && options.to !== undefined) usage('--to only applies with --down');
  if (!options.down && options.steps !== undefined) usage('--steps only applies with --down');
  if (options.to !== undefined && options.steps !== undefined) usage('give --to or --steps, not both');
}

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed) || parsed < 1) {
    throw new InvalidArgumentError('expected a positive integer.');
  }
  return parsed;
}
