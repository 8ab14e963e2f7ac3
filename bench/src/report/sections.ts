import { LAG_SETTINGS } from '../capacity/lag-part';
import type { CatchUpSample } from '../capacity/catch-up';
import { scenarioSection } from '../compare-report';
import type { CompareData } from '../compare-data';
import { median } from '../stats';
import type { Coverage } from './figures';
import { coverageList, cpuPer1000 } from './figures';
import type { CapacityData, ReplayData } from './inputs';
import { formatNumber } from './targets';

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const of = <T>(samples: readonly T[], pick: (sample: T) => number) => median(samples.map(pick));
const absent = (why: string) => [`Not measured in this run: ${why}.`, ''];

/** The game mix and the hot-entity load, from bench:compare: every contender interleaved. */
export function compareSections(data: CompareData | undefined, why: string): string[] {
  if (!data) return Object.values(COMPARE_TITLES).flatMap((title) => [`## ${title}`, '', ...absent(why)]);
  return data.scenarios.flatMap((scenario) => [
    `## ${COMPARE_TITLES[scenario.key] ?? scenario.name}`,
    '',
    `From bench:compare (details: [compare.md](compare.md)). Scenario "${scenario.name}"; ${data.rounds} interleaved ` +
      `round(s), medians; ramp at ${data.plan.rampFractions.map((f) => `${f}×`).join(', ')} a closed-loop probe's rate, ` +
      `${data.plan.stepSeconds} s a step.`,
    '',
    ...scenarioSection(data, scenario.name, '###').slice(2),
    ...coverageList(compareCoverage),
  ]);
}

/** The issue's names for bench:compare's scenarios, by key. */
const COMPARE_TITLES: Readonly<Record<string, string>> = {
  'game-mix': "The simulated game's mix at fixed offered rates until saturation",
  'hot-entities': 'A hot-entity load (many events on few entities)',
};

const compareCoverage: Coverage = {
  sustained: 'in the first table (saturation: the most carried on any ramp step).',
  latency: 'in the first table, per request, from its due time.',
  lag:
    'not measured per event here: every step ends with the bench asking the worker to flush, so a lag sampled in ' +
    'these short steps would time that request. "Durable after" (the time from the end of the 90% step until the ' +
    'checkpoint covered its last event) is in the second table; the lag under continuous load is sampled in ' +
    '"Event-to-durable lag" below. Write-through and Emmett reply after their commit (lag 0 by construction); the ' +
    'echo and the ceiling never make anything durable.',
  rows: 'in the second table, over the 90% step until durable.',
  redis:
    'in the second table, for the contenders that use Redis (Lorekeeper and the ceiling), read once the 90% step was durable.',
  cpu: 'in the second table, over the 90% step until durable.',
};

export function sessionStartSection(data: CapacityData | undefined, why: string): string[] {
  const heading = '## Session start on a 1,000,000-entity world';
  const samples = data?.sessionStart;
  if (!data || !samples)
    return [
      heading,
      '',
      ...absent(data ? 'the start part was not run' : why),
      ...coverageList(startCoverage),
    ];
  return [
    heading,
    '',
    `From bench:capacity (details: [capacity.md](capacity.md)). World of ${n(data.world.entities)} entities; ` +
      `${data.options.sessionStartRounds ?? data.options.rounds} round(s), medians; \`session.start\` through NATS and the real session service.`,
    '',
    '| players | ms (median) | min–max ms | entities made live | B per live entity (used_memory delta) | B per live entity (entity + version hashes) | Redis used_memory after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...Object.entries(samples).map(([players, runs]) => {
      const ms = runs.map((s) => s.ms);
      return (
        `| ${players} | ${n(median(ms))} | ${n(Math.min(...ms))}–${n(Math.max(...ms))} | ${n(of(runs, (s) => s.liveEntities))} | ` +
        `${n(of(runs, (s) => s.bytesPerEntityInfo))} | ${n(of(runs, (s) => s.bytesPerEntityHashes))} | ` +
        `${(of(runs, (s) => s.usedMemoryBytes) / 1_048_576).toFixed(1)} MiB |`
      );
    }),
    '',
    ...coverageList(startCoverage),
  ];
}

const startCoverage: Coverage = {
  sustained: 'not applicable: a session start appends no events.',
  latency: "not applicable: no appends; the start's own time is the table's ms.",
  lag: 'not applicable: nothing is appended.',
  rows: 'not measured: the script counts no Postgres writes during a start (a start reads the live set).',
  redis:
    'in the table: per live entity from the used_memory delta and from the hashes; in total as used_memory after the start (a private Redis).',
  cpu: 'not measured: CPU is not read around a start, which appends no events to divide it by.',
};

export function catchUpSection(data: CapacityData | undefined, why: string): string[] {
  const heading = '## Worker catch-up after a 5-minute backlog';
  const worker = data?.worker;
  if (!data || !worker)
    return [
      heading,
      '',
      ...absent(data ? 'the worker part was not run' : why),
      ...coverageList(catchUpCoverage),
    ];
  const row = (label: string, runs: readonly CatchUpSample[]) => {
    const pgRows = (s: CatchUpSample) =>
      ((s.entityRows + s.archiveChunks + 2 * s.flushes) * 1_000) / s.events;
    return (
      `| ${label} | ${n(of(runs, (s) => s.events))} | ${of(runs, (s) => s.seconds).toFixed(1)} | ${n(of(runs, (s) => s.eventsPerSecond))} | ` +
      `${of(runs, (s) => s.entityRowsPer1000Events).toFixed(1)} | ${n(of(runs, pgRows))} | ${n(of(runs, (s) => s.flushes))} | ` +
      `${cpuPer1000(runs.map((s) => ({ ...(s.cpuSeconds ? { cpuSeconds: s.cpuSeconds } : {}), events: s.events })))} |`
    );
  };
  const backlog = data.options.backlogSeconds;
  return [
    heading,
    '',
    `From bench:capacity (details: [capacity.md](capacity.md)). A backlog of ${backlog} s of the simulated mix at ` +
      `${n(data.options.backlogRate)} events/s written into the stream, then the running worker timed until its ` +
      `Postgres checkpoint reached the last event; ${data.options.rounds} round(s), medians.`,
    '',
    '| load | events | seconds until durable | events/s | entity rows / 1,000 events | all PG rows / 1,000 events (entities, archive chunks, sync_log and checkpoint per flush; replay snapshots not counted) | flushes | CPU s / 1,000 events, per process |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    row(`simulated mix, ${backlog}-s backlog`, worker.mix),
    row('the same mix, worker with SNAPSHOT_EVERY_EVENTS=0', worker.mixWithoutSnapshots),
    row('all-distinct entities (one gold change per player)', worker.distinct),
    '',
    `Raw UNNEST upserts of the all-distinct rows, ${data.options.rawBatch} a statement (the Postgres ceiling): ` +
      `${n(of(worker.rawRowsPerSecond, (r) => r))} rows/s; the worker wrote ${n(of(worker.distinct, (s) => s.entityRowsPerSecond))} entity rows/s` +
      (worker.distinctFromCheckpoint ? ', each timed from a finished `CHECKPOINT` (capacity.md).' : '.'),
    '',
    ...coverageList(catchUpCoverage),
  ];
}

const catchUpCoverage: Coverage = {
  sustained: 'events/s in the table.',
  latency:
    'not applicable: the backlog is written straight into the stream, so there are no appends to time.',
  lag: 'the whole backlog\'s "seconds until durable" in the table; no per-event distribution.',
  rows: "in the table, from the worker's sync_log.",
  redis: "not measured: the script does not read the backlog stream's memory.",
  cpu: 'in the table, over the catch-up (the private Redis, every postgres process, this script).',
};

export function lagSection(data: CapacityData | undefined, why: string): string[] {
  const heading = '## Event-to-durable lag at 50% load';
  const lag = data?.lag;
  if (!data || !lag)
    return [heading, '', ...absent(data ? 'the lag part was not run' : why), ...coverageList(lagCoverage)];
  return [
    heading,
    '',
    `From bench:capacity (details: [capacity.md](capacity.md)). Appends of ${data.options.appendBatch} events through ` +
      `the real session service; saturation (64 in flight): ${n(of(lag.saturation, (s) => s.appendEventsPerSecond))} events/s ` +
      `appended, ${n(of(lag.saturation, (s) => s.durableEventsPerSecond))} events/s durable. Offered open loop at half ` +
      `the durable rate, ${n(lag.offeredEventsPerSecond)} events/s, for ${data.options.lagSeconds} s; every append after a ` +
      '2-s warm-up is a sample, from its reply to the first poll (every 10 ms) that finds the checkpoint past it.',
    '',
    '| worker setting | achieved events/s | lag p50 ms | lag p99 ms | lag p99.9 ms | samples | CPU s / 1,000 events, per process |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...LAG_SETTINGS.filter((setting) => lag.bySetting[setting.name]).map((setting) => {
      const runs = lag.bySetting[setting.name] ?? [];
      const cpu = cpuPer1000(
        runs.map((s) => ({
          ...(s.cpuSeconds ? { cpuSeconds: s.cpuSeconds } : {}),
          events: s.appendedEvents ?? 0,
        })),
      );
      return (
        `| ${setting.name} | ${n(of(runs, (s) => s.achievedEventsPerSecond))} | ${n(of(runs, (s) => s.lagMs.p50))} | ` +
        `${n(of(runs, (s) => s.lagMs.p99))} | ${n(of(runs, (s) => s.lagMs.p999))} | ${n(of(runs, (s) => s.lagMs.count))} | ${cpu} |`
      );
    }),
    '',
    ...coverageList(lagCoverage),
  ];
}

const lagCoverage: Coverage = {
  sustained: 'achieved events/s in the table, and the saturation above it.',
  latency:
    "not measured: the script times each append's reply-to-durable, not the append itself (see the game mix).",
  lag: 'p50, p99 and p99.9 in the table, per worker setting.',
  rows: 'not measured: sync_log rows are not counted over the lag runs.',
  redis: 'not measured: Redis memory is not read during the lag runs.',
  cpu: 'in the table, over each whole run (warm-up and drain included).',
};

export function replaySection(data: ReplayData | undefined, why: string): string[] {
  const heading = '## `state --at` on a 1,000,000-event history';
  if (!data) return [heading, '', ...absent(why), ...coverageList(replayCoverage)];
  const seconds = (name: string) => median(data.timings[name] ?? []) / 1_000;
  const baseline = seconds(data.cases.baseline);
  return [
    heading,
    '',
    `From bench:replay (details: [replay.md](replay.md)). ${n(data.EVENTS)} archived events, a replay snapshot every ` +
      `${n(data.SNAPSHOT_EVERY)}; CLI timings include starting Node and connecting; ${data.ROUNDS} round(s), medians.`,
    '',
    '| what | seconds | × faster than folding without snapshots |',
    '| --- | ---: | ---: |',
    ...Object.keys(data.timings).map(
      (name) => `| ${name} | ${seconds(name).toFixed(2)} | ${formatNumber(baseline / seconds(name))} |`,
    ),
    '',
    ...coverageList(replayCoverage),
  ];
}

const replayCoverage: Coverage = {
  sustained: 'not applicable: a read; the seconds to answer are in the table.',
  latency: "not applicable: no appends; the CLI's wall time is in the table.",
  lag: 'not applicable: nothing is appended.',
  rows: 'not applicable: a read writes no rows.',
  redis: 'not applicable: the replay runs with `--no-redis`, from Postgres alone.',
  cpu: "not measured: the CLI's CPU is not read (its wall time, Node's start included, is the figure).",
};
