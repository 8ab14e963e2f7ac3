import { loadConfig } from '@lorekeeper/config';
import type { EntityMismatch, StoreCheck, VerifyReport } from '@lorekeeper/replay';
import { verifyCampaign } from '@lorekeeper/replay';
import type { Command } from 'commander';
import { campaignId } from '../arguments';
import { CommandFailedError } from '../errors';
import { writeLine } from '../formats';
import { startReplayProgress } from '../progress';
import { withStores } from '../stores';

interface VerifyOptions {
  readonly json?: boolean;
  readonly redis: boolean;
}

export function registerVerifyCommand(program: Command): void {
  program
    .command('verify')
    .description('Fold every event from the start and check Postgres (and Redis, when live) against it.')
    .argument('<campaign>', 'campaign id', campaignId)
    .option('--json', 'print the report as one JSON document')
    .option('--no-redis', 'check Postgres only')
    .addHelpText(
      'after',
      `
Postgres is compared at its durable checkpoint: the created world plus every archived event, folded with
the services' own domain code (each event's recorded version is checked too), must equal the entities
table exactly. When a session is live, Redis is compared at the stream head: every persistent entity it
holds, and every one an event past the checkpoint touched, must equal the fold carried on through the
stream. Each mismatch is reported entity by entity, field by field.

Exit codes: 0 everything agrees, 1 a mismatch (or a log that does not fold), 3 a store unreachable.

Examples:
  $ lorekeeper verify c1
  $ lorekeeper verify c1 --json | jq '.postgres.mismatches[].entityId'`,
    )
    .action(async (id: string, options: VerifyOptions) => {
      await withStores(loadConfig(), options.redis, async ({ db, redis }) => {
        const progress = startReplayProgress();
        const report = await verifyCampaign(db, id, {
          ...(redis && { redis }),
          onSnapshotRows: progress.onSnapshotRows,
          onProgress: progress.onProgress,
        }).finally(() => progress.stop());
        writeLine(options.json ? JSON.stringify(report, null, 2) : describeReport(report));
        if (!report.ok) throw new CommandFailedError(`campaign ${id} does not verify`, true);
      });
    });
}

function describeReport(report: VerifyReport): string {
  const lines = [describeCheck('Postgres', report.postgres)];
  lines.push(
    report.redis ? describeCheck('Redis', report.redis) : 'Redis: no live session, nothing to compare',
  );
  lines.push(report.ok ? `campaign ${report.campaignId}: OK` : `campaign ${report.campaignId}: MISMATCH`);
  return lines.join('\n');
}

function describeCheck(store: string, check: StoreCheck): string {
  const head =
    `${store} at seq ${check.seq}: ${check.entitiesCompared} entities compared, ` +
    `${check.eventsFolded} events folded, ${check.mismatches.length} mismatches`;
  const lines = [head];
  if (check.error) lines.push(`  the log does not fold: ${check.error}`);
  for (const mismatch of check.mismatches) lines.push(...describeMismatch(store, mismatch));
  return lines.join('\n');
}

function describeMismatch(store: string, mismatch: EntityMismatch): string[] {
  const what =
    mismatch.problem === 'missing'
      ? `missing from ${store}`
      : mismatch.problem === 'unexpected'
        ? `in ${store} but not in the log`
        : `differs in ${store}`;
  return [
    `  ${mismatch.entityId}: ${what}`,
    ...mismatch.changes.map(
      (c) =>
        `      ${c.field}: ${store} has ${JSON.stringify(c.before) ?? '-'}, the log says ${JSON.stringify(c.after) ?? '-'}`,
    ),
  ];
}
