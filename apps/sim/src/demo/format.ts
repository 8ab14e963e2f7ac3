import type { DemoSummary } from './demo';

const n = (value: number): string => value.toLocaleString('en-US');

/** The summary for a person: what was played, what reached Postgres, and whether it all agrees. */
export function formatSummary(summary: DemoSummary): string {
  const types = Object.entries(summary.eventsByType).sort((a, b) => b[1].count - a[1].count);
  const width = Math.max(...types.map(([type]) => type.length), 10);
  const pg = summary.postgres;
  const check = summary.verification;
  const lines = [
    '',
    `Campaign ${summary.campaignId} (seed ${summary.seed}): ${n(summary.entities)} entities, ` +
      `${summary.players} players on ${summary.gameServers} game servers for ${summary.durationSeconds} s`,
    `  ${n(summary.events)} events in ${n(summary.appends)} appends (${n(summary.eventsPerSecond)}/s), ` +
      `${n(summary.refused)} refused by validation; append p50 ${summary.appendLatencyMs.p50} ms, ` +
      `p99 ${summary.appendLatencyMs.p99} ms, max ${summary.appendLatencyMs.max} ms`,
    '',
    'Events by type',
    ...types.map(
      ([type, { count, persistence }]) => `  ${type.padEnd(width)}  ${n(count).padStart(7)}  ${persistence}`,
    ),
    '',
    `Reached Postgres: ${n(summary.persistentEvents)} persistent events (${n(pg.eventsArchived)} archived); ` +
      `stayed transient in Redis: ${n(summary.transientEvents)} events`,
    `  ${n(pg.flushes)} flushes wrote ${n(pg.entitiesWritten)} entity rows and deleted ${n(pg.entitiesDeleted)}` +
      `${pg.failedFlushes > 0 ? ` (${n(pg.failedFlushes)} flushes failed and were retried)` : ''}; ` +
      `checkpoint at seq ${n(pg.checkpointSeq)} of ${n(summary.lastSeq)}`,
    '',
    check.ok
      ? `Verified: Postgres == fold(events) over ${n(check.entitiesCompared)} entities and ${n(check.eventsFolded)} ` +
        'archived events; the archive holds exactly the acknowledged persistent events.'
      : `VERIFICATION FAILED: ${describeFailure(summary)}`,
    '',
    `Replay it:  ${summary.replayCommand}`,
    `Check it:   ${summary.verifyCommand}`,
  ];
  return lines.join('\n');
}

function describeFailure(summary: DemoSummary): string {
  const check = summary.verification;
  const problems: string[] = [];
  if (check.error) problems.push(check.error);
  if (!check.archiveMatchesAcknowledged)
    problems.push(
      `the archive holds ${summary.postgres.eventsArchived} events, the game servers saw ` +
        `${summary.persistentEvents} persistent ones acknowledged`,
    );
  if (summary.postgres.checkpointSeq !== summary.lastSeq)
    problems.push(
      `the checkpoint is at ${summary.postgres.checkpointSeq}, the session ended at ${summary.lastSeq}`,
    );
  for (const mismatch of check.mismatches.slice(0, 10))
    problems.push(
      `${mismatch.entityId} is ${mismatch.problem} in Postgres` +
        (mismatch.changes.length > 0
          ? ` (${mismatch.changes.map((c) => `${c.field}: ${JSON.stringify(c.before)} should be ${JSON.stringify(c.after)}`).join(', ')})`
          : ''),
    );
  if (check.mismatches.length > 10) problems.push(`and ${check.mismatches.length - 10} more entities`);
  return problems.join('\n  ');
}
