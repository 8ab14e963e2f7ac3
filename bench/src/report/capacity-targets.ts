import { LAG_SETTINGS, isContinuous } from '../capacity/lag-part';
import { median } from '../stats';
import type { CapacityData, ReplayData } from './inputs';
import type { TargetCheck } from './targets';
import { ISSUE_8, formatNumber } from './targets';

const of = <T>(samples: readonly T[] | undefined, pick: (sample: T) => number) =>
  samples && samples.length > 0 ? median(samples.map(pick)) : undefined;

/** The targets bench:capacity measures: session start, worker catch-up, event-to-durable lag. */
export function capacityTargets(data: CapacityData | undefined, why: string): TargetCheck[] {
  const absolute = 'absolute';
  const missing = (part: string) =>
    !data
      ? why
      : data.options.parts.includes(part as never)
        ? 'the part left no samples'
        : `the ${part} part was not run`;
  const entities = data?.world.entities ?? 0;
  const worldScaled =
    data && entities < 1_000_000 ? `${formatNumber(entities)}-entity world, not 1,000,000` : undefined;
  const backlogScaled =
    data && data.options.backlogSeconds < 300
      ? `${data.options.backlogSeconds}-s backlog, not 5 minutes`
      : undefined;
  const check = (
    issue: { what: string; target: string },
    measure: string,
    measured: number | undefined,
    bar: number,
    better: 'higher' | 'lower',
    unit: string,
    baseline: string,
    part: string,
    scaled: string | undefined,
  ): TargetCheck => ({
    ...issue,
    measure,
    measured,
    bar,
    better,
    unit,
    baseline,
    ...(measured === undefined ? { notMeasured: missing(part) } : {}),
    ...(scaled ? { scaled } : {}),
  });

  const start = data?.sessionStart;
  const startMs = (players: number) => of(start?.[players], (s) => s.ms);
  const perEntity = start
    ? Math.max(...Object.values(start).map((runs) => median(runs.map((s) => s.bytesPerEntityInfo))))
    : undefined;

  const worker = data?.worker;
  const mixEps = of(worker?.mix, (s) => s.eventsPerSecond);
  const raw = of(worker?.rawRowsPerSecond, (r) => r);
  const distinct = of(worker?.distinct, (s) => s.entityRowsPerSecond);
  const distinctRatio = distinct !== undefined && raw ? distinct / raw : undefined;

  const lag = data?.lag;
  const lagRows = LAG_SETTINGS.filter(isContinuous).map((setting) =>
    check(
      ISSUE_8.lag,
      `lag p99, worker with ${setting.name}`,
      of(lag?.bySetting[setting.name], (s) => s.lagMs.p99),
      1_000,
      'lower',
      ' ms',
      lag
        ? `absolute; offered ${formatNumber(lag.offeredEventsPerSecond)} events/s, half of the durable saturation ` +
            `(${formatNumber(of(lag.saturation, (s) => s.durableEventsPerSecond) ?? 0)} events/s)`
        : absolute,
      'lag',
      undefined,
    ),
  );

  return [
    check(
      ISSUE_8.workerMix,
      'simulated mix backlog: events/s',
      mixEps,
      100_000,
      'higher',
      ' events/s',
      absolute,
      'worker',
      backlogScaled,
    ),
    check(
      ISSUE_8.workerMix,
      'simulated mix backlog: entity rows written per 1,000 events',
      of(worker?.mix, (s) => s.entityRowsPer1000Events),
      100,
      'lower',
      ' rows',
      absolute,
      'worker',
      backlogScaled,
    ),
    check(
      ISSUE_8.workerDistinct,
      'worker entity rows/s on all-distinct entities ÷ raw UNNEST upserts of the same rows',
      distinctRatio,
      0.7,
      'higher',
      '× raw',
      raw
        ? `raw UNNEST upserts, ${data?.options.rawBatch} rows a statement: ${formatNumber(raw)} rows/s`
        : 'raw UNNEST upserts',
      'worker',
      undefined,
    ),
    ...lagRows,
    check(
      ISSUE_8.sessionStart,
      '2 players: ms to reply',
      startMs(2),
      200,
      'lower',
      ' ms',
      absolute,
      'start',
      worldScaled,
    ),
    check(
      ISSUE_8.sessionStart,
      '200 players: ms to reply',
      startMs(200),
      2_000,
      'lower',
      ' ms',
      absolute,
      'start',
      worldScaled,
    ),
    check(
      ISSUE_8.sessionStart,
      'Redis memory per live entity (used_memory delta ÷ entities made live; the largest of 2, 20, 200 players)',
      perEntity,
      1_024,
      'lower',
      ' B',
      absolute,
      'start',
      worldScaled,
    ),
    check(
      ISSUE_8.catchUp,
      'simulated mix backlog: events/s',
      mixEps,
      100_000,
      'higher',
      ' events/s',
      absolute,
      'worker',
      backlogScaled,
    ),
    check(
      ISSUE_8.catchUp,
      'the same, worker with SNAPSHOT_EVERY_EVENTS=0 (no replay snapshots)',
      of(worker?.mixWithoutSnapshots, (s) => s.eventsPerSecond),
      100_000,
      'higher',
      ' events/s',
      absolute,
      'worker',
      backlogScaled,
    ),
  ];
}

/** `state --at` on the long history, worst case (a point just before the next snapshot). */
export function replayTargets(data: ReplayData | undefined, why: string): TargetCheck[] {
  const worst = data ? of(data.timings[data.cases.worst], (ms) => ms) : undefined;
  const baseline = data ? of(data.timings[data.cases.baseline], (ms) => ms) : undefined;
  return [
    {
      ...ISSUE_8.replay,
      measure: data
        ? `\`lorekeeper state --at ${formatNumber(data.EVENTS - 1)}\`, whole world, the CLI as a user runs it`
        : '`lorekeeper state --at`, whole world',
      measured: worst === undefined ? undefined : worst / 1_000,
      unit: ' s',
      bar: 5,
      better: 'lower',
      baseline:
        baseline === undefined
          ? 'absolute'
          : `absolute; the same fold from the created world without snapshots: ${formatNumber(baseline / 1_000)} s`,
      ...(worst === undefined ? { notMeasured: why } : {}),
      ...(data && data.EVENTS < 1_000_000
        ? { scaled: `${formatNumber(data.EVENTS)} archived events, not 1,000,000` }
        : {}),
    },
  ];
}
