import type { CompareData, ContenderRow } from '../compare-data';
import { medianOf, rowFor, rowsOf } from '../compare-data';
import type { TargetCheck } from './targets';
import { ISSUE_8, formatNumber } from './targets';

const eps = (n: number) => `${formatNumber(n)} events/s`;

/** The targets bench:compare measures, per issue row, for every scenario of the run. */
export function compareTargets(data: CompareData): TargetCheck[] {
  const scenarios = data.scenarios.map((s) => ({ name: s.name, rows: rowsOf(data, s.name) }));
  const missing = (key: string) => {
    const skipped = data.skipped.find((s) => s.key === key);
    if (skipped) return skipped.reason;
    return data.contenders.some((c) => c.key === key)
      ? 'no block of it finished'
      : `${key} was not in this run (--only)`;
  };
  /** Lorekeeper's saturation over a baseline's, times `scale` (a bar in events/s is then shown). */
  const ratio = (
    issue: { what: string; target: string },
    key: string,
    baselineKey: string,
    bar: number,
    unit: string,
  ): TargetCheck[] =>
    scenarios.map(({ name, rows }) => {
      const row = rowFor(rows, key);
      const base = rowFor(rows, baselineKey);
      const label = rows.find((r) => r.contender.key === baselineKey)?.contender.name ?? baselineKey;
      const common = {
        ...issue,
        measure: `${name}: ${row?.contender.name ?? key}, sustained events/s ÷ the baseline's`,
        unit,
        bar,
        better: 'higher' as const,
      };
      if (!row || !base)
        return {
          ...common,
          measured: undefined,
          baseline: base ? `${label}: ${eps(base.saturation)}` : label,
          notMeasured: missing(!row ? key : baselineKey),
        };
      return {
        ...common,
        measure: `${common.measure} (${eps(row.saturation)})`,
        measured: row.saturation / base.saturation,
        baseline: `${label}: ${eps(base.saturation)}, so the bar is ${eps(bar * base.saturation)}${majorNote(issue, row)}`,
      };
    });
  const latency = (key: string): TargetCheck[] =>
    scenarios.flatMap(({ name, rows }) => {
      const row = rowFor(rows, key);
      return (['p99', 'p999'] as const).map((q) => ({
        ...ISSUE_8.latency,
        measure: `${name}: ${row?.contender.name ?? key}, ${q === 'p99' ? 'p99' : 'p99.9'}`,
        measured: row ? medianOf(row, (b) => b.at50.latencyMs[q]) : undefined,
        unit: ' ms',
        bar: q === 'p99' ? 5 : 20,
        better: 'lower' as const,
        baseline: row
          ? `absolute; offered ${eps(row.saturation / 2)}, half of its saturation${fromDue(row, q)}`
          : 'absolute',
        ...(row ? {} : { notMeasured: missing(key) }),
      }));
    });
  // The same quantile counted from the scheduled time, the wait for requests ordered before included.
  const fromDue = (row: ContenderRow, q: 'p99' | 'p999') =>
    row.blocks.every((b) => b.at50.fromDueLatencyMs)
      ? `; ${medianOf(row, (b) => b.at50.fromDueLatencyMs![q]).toFixed(1)} ms from the scheduled time, waits for earlier requests of the turn included`
      : '';
  return [
    ...ratio(ISSUE_8.append1, 'lorekeeper-1', 'echo', 0.7, '× echo'),
    ...ratio(ISSUE_8.append20, 'lorekeeper-20', 'ceiling-20', 0.5, '× ceiling'),
    ...latency('lorekeeper-1'),
    ...latency('lorekeeper-20'),
    ...ratio(ISSUE_8.writeThrough, 'lorekeeper-1', 'write-through', 10, '×'),
    ...ratio(ISSUE_8.writeThrough, 'lorekeeper-20', 'write-through', 10, '×'),
    ...ratio(ISSUE_8.emmett, 'lorekeeper-1', 'emmett-projected', 10, '×'),
    ...ratio(ISSUE_8.emmett, 'lorekeeper-20', 'emmett-projected', 10, '×'),
  ];
}

/** For the Emmett row: how Lorekeeper answered requests holding a major event (once durable). */
function majorNote(issue: { what: string }, row: ContenderRow): string {
  if (issue.what !== ISSUE_8.emmett.what) return '';
  const requests = row.blocks.reduce((n, b) => n + b.at50.majorLatencyMs.count, 0);
  const withMajor = row.blocks.filter((b) => b.at50.majorLatencyMs.count > 0);
  const p99 =
    withMajor.length > 0 ? medianOf({ ...row, blocks: withMajor }, (b) => b.at50.majorLatencyMs.p99) : 0;
  return (
    `. Major events: Lorekeeper replies once the worker committed them to Postgres, Emmett commits every event ` +
    `(${requests} request${requests === 1 ? '' : 's'} held one at 50% load${requests > 0 ? `, p99 ${formatNumber(p99)} ms` : ''})`
  );
}
