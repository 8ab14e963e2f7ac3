import type { StreamStatus } from './stream-status';

const COLUMNS = [
  'CAMPAIGN',
  'STATUS',
  'HEAD',
  'CHECKPOINT',
  'ARCHIVED',
  'BEHIND',
  'LAST FLUSH',
  'LENGTH',
  'LAG',
  'PENDING',
  'LEASE',
] as const;

export function describeStreams(rows: readonly StreamStatus[]): string {
  if (rows.length === 0) return 'no live campaigns (lk:campaigns:active is empty)';
  const cells = rows.map((row) => [
    row.campaignId,
    row.status,
    String(row.headSeq),
    row.checkpointSeq === null ? '-' : String(row.checkpointSeq),
    row.archivedSeq === null ? '-' : String(row.archivedSeq),
    row.behind === null ? '-' : String(row.behind),
    row.lastFlushAgeSeconds === null ? 'never' : `${age(row.lastFlushAgeSeconds)} ago`,
    String(row.streamLength),
    row.groupLag === null ? '-' : String(row.groupLag),
    String(row.pending),
    row.leaseHolder ?? '(none)',
  ]);
  const widths = COLUMNS.map((title, i) =>
    Math.max(title.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const line = (values: readonly string[]) =>
    values.map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i] ?? 0))).join('  ');
  const quarantined = rows.filter((row) => row.status === 'quarantined').length;
  const footer =
    quarantined > 0
      ? `\n${quarantined} quarantined: see \`lorekeeper dead-letters list\`, then retry or skip.`
      : '';
  return [line(COLUMNS), ...cells.map(line)].join('\n') + footer;
}

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7_200) return `${Math.round(seconds / 60)}m`;
  return `${Math.round(seconds / 3_600)}h`;
}
