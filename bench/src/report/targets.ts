/** One figure judged against one row of issue 8's targets table. */
export interface TargetCheck {
  /** The issue's "what" column, as written there. */
  readonly what: string;
  /** The issue's "target" column, as written there. */
  readonly target: string;
  /** Which figure of which scenario this row judges. */
  readonly measure: string;
  readonly measured: number | undefined;
  /** Appended to a number when printed: ' ms', '× echo', ' events/s'. */
  readonly unit: string;
  /** The bar itself, in the unit of `measured`. */
  readonly bar: number;
  readonly better: 'higher' | 'lower';
  /** What the bar is a ratio to, with its value measured in the same run; or why it is absolute. */
  readonly baseline: string;
  /** Why there is no figure, when `measured` is undefined. */
  readonly notMeasured?: string;
  /** When the run measured less than the target names (a `--quick` run's smaller world or history). */
  readonly scaled?: string;
}

export type Verdict = 'met' | 'missed' | 'not measured';

export function verdictOf(check: TargetCheck): Verdict {
  if (check.measured === undefined || !Number.isFinite(check.measured)) return 'not measured';
  const met = check.better === 'higher' ? check.measured >= check.bar : check.measured <= check.bar;
  return met ? 'met' : 'missed';
}

/** "met (1.4× margin)", or "**missed**: 5.6× short", or "not measured: why". */
export function verdictText(check: TargetCheck): string {
  const verdict = verdictOf(check);
  if (verdict === 'not measured') return `not measured: ${check.notMeasured ?? 'no figure'}`;
  const value = check.measured!;
  const factor = check.better === 'higher' ? value / check.bar : check.bar / value;
  if (verdict === 'met') return `met (${formatNumber(factor)}× margin)`;
  const shortfall = 1 / factor;
  return check.better === 'higher'
    ? `**missed** by ${formatNumber(shortfall)}× (${formatNumber(value)} of ${formatNumber(check.bar)}${check.unit}: ${(factor * 100).toFixed(0)}% of the bar)`
    : `**missed** by ${formatNumber(shortfall)}× (${formatNumber(value)}${check.unit} against <= ${formatNumber(check.bar)}${check.unit})`;
}

/** The issue's targets table with the measured figures beside it. */
export function targetsTable(checks: readonly TargetCheck[]): string[] {
  const cell = (text: string) => text.replace(/\|/g, '\\|');
  return [
    '| what (issue 8) | target (issue 8) | figure judged | measured | baseline (same run) | verdict |',
    '| --- | --- | --- | ---: | --- | --- |',
    ...checks.map((c) => {
      const measured =
        c.measured === undefined || !Number.isFinite(c.measured)
          ? '–'
          : `${formatNumber(c.measured)}${c.unit}`;
      const measure = c.scaled ? `${c.measure} (${c.scaled})` : c.measure;
      return `| ${cell(c.what)} | ${cell(c.target)} | ${cell(measure)} | ${measured} | ${cell(c.baseline)} | ${verdictText(c)} |`;
    }),
  ];
}

export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 100) return Math.round(n).toLocaleString('en-US');
  return Number(n.toPrecision(3)).toString();
}

/** Issue 8's targets table, row by row, in its own words. */
export const ISSUE_8 = {
  append1: {
    what: 'append, 1 event per request, through NATS',
    target: '>= 70% of a bare NestJS NATS echo service in the same run (about 15,000 events/s)',
  },
  append20: {
    what: 'append, 20 events per request',
    target: '>= 50% of the raw Redis Function ceiling (about 50,000 events/s)',
  },
  latency: { what: 'append latency at 50% of saturation', target: 'p99 <= 5 ms, p99.9 <= 20 ms' },
  workerMix: {
    what: 'worker fold + checkpoint, simulated mix',
    target: '>= 100,000 events/s; <= 100 Postgres entity rows written per 1,000 events',
  },
  workerDistinct: {
    what: 'worker on all-distinct entities',
    target: '>= 70% of raw UNNEST upsert rows/s in the same run',
  },
  lag: { what: 'event to durable lag, continuous mode, 50% load', target: 'p99 <= 1 s' },
  writeThrough: { what: 'against naive write-through', target: '>= 10x sustained events/s' },
  emmett: {
    what: "against Emmett's PostgreSQL store with a projection keeping state current",
    target: '>= 10x sustained events/s, with major events as durable',
  },
  sessionStart: {
    what: 'session start, 1,000,000-entity world',
    target: '2 players <= 200 ms; 200 players <= 2 s; Redis memory per live entity <= 1 KB',
  },
  catchUp: { what: 'worker catch-up after a 5-minute backlog', target: '>= 100,000 events/s' },
  replay: { what: '`state --at` on 1,000,000 archived events', target: '<= 5 s' },
} as const;
