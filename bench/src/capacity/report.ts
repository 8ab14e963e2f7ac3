import { cpus } from 'node:os';
import { loadConfig } from '@lorekeeper/config';
import { median } from '../stats';
import type { LagPartResult } from './lag-part';
import { LAG_SETTINGS, isContinuous } from './lag-part';
import type { CapacityOptions } from './options';
import type { SessionStartSample } from './session-start';
import type { ReplayTiming } from './replay-timing';
import type { WorkerPartResult } from './worker-part';
import { analysis } from './analysis';

export interface CapacityResults {
  readonly options: CapacityOptions;
  readonly world: { readonly entities: number; readonly insertSeconds: number };
  sessionStart?: Record<number, SessionStartSample[]>;
  worker?: WorkerPartResult;
  lag?: LagPartResult;
}

/** A target's verdict: met, or missed by how much (as a factor of the target). */
export function verdict(value: number, target: number, better: 'lower' | 'higher'): string {
  const met = better === 'lower' ? value <= target : value >= target;
  if (met) return 'met';
  const factor = better === 'lower' ? value / target : target / value;
  return `**missed** (${factor.toFixed(1)}× ${better === 'lower' ? 'over' : 'short'})`;
}

const n = (value: number) => Math.round(value).toLocaleString('en-US');
const of = <T>(samples: readonly T[], pick: (sample: T) => number) => median(samples.map(pick));

export function renderReport(results: CapacityResults): string {
  const { options } = results;
  const defaults = loadConfig({}).worker;
  const lines = [
    '# Capacity benchmark',
    '',
    `${options.quick ? '`--quick` run' : 'Full run'}: ${options.rounds} interleaved round(s), medians; ${cpus().length} cores shared by ` +
      'the bench, the session service, the worker, Postgres and Redis. A private Redis 7 (no AOF, no RDB, like the shared ' +
      'one) and NATS, and a fresh database, all dropped afterwards.',
    '',
    `World: ${n(results.world.entities)} entities (${n(options.world.regions)} regions, ${n(options.world.players)} players, ` +
      `${n(options.world.npcs)} NPCs, ${n(options.world.items)} items, ${n(options.world.quests)} quests, the world), ` +
      `generated with generateWorld and inserted with pg-store's chunked UNNEST inserts in one transaction, with the ` +
      `snapshot of the created world that create records (${results.world.insertSeconds.toFixed(1)} s), not through \`campaign.<id>.create\`: a document this size is far over NATS's max_payload.`,
    '',
    ...sessionStartSection(results.sessionStart, options.sessionStartRounds),
    ...workerSection(results.worker, options, defaults.backlogEvents, defaults.catchUpBacklogFactor),
    ...lagSection(results.lag, options, defaults),
    ...profileSection(results.worker),
    ...analysis(results),
  ];
  return `${lines.join('\n')}\n`;
}

function sessionStartSection(
  samples: Record<number, SessionStartSample[]> | undefined,
  rounds: number,
): string[] {
  if (!samples) return [];
  const target = (players: number) => (players <= 2 ? 200 : players >= 200 ? 2_000 : undefined);
  return [
    '## 1. Session start',
    '',
    `${rounds} interleaved round(s) of the three sizes (session starts are quick, so more rounds than the other parts). ` +
      '`campaign.<id>.session.start` through NATS and the real session service, timed from request to reply; then the ' +
      "session's keys are dropped so each start begins from an empty campaign in Redis (one unmeasured start first). " +
      'Memory per live entity: the `used_memory` delta over the start, and `MEMORY USAGE` of the entity and version ' +
      'hashes, each divided by the entities made live.',
    '',
    '| players | ms (median) | min–max ms | entities made live | B per live entity (INFO delta) | B per live entity (hashes) | Redis used_memory after | time target | memory target (<= 1,024 B) |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |',
    ...Object.entries(samples).map(([players, runs]) => {
      const ms = of(runs, (s) => s.ms);
      const limit = target(Number(players));
      const bytes = of(runs, (s) => s.bytesPerEntityInfo);
      return (
        `| ${players} | ${n(ms)} | ${n(Math.min(...runs.map((s) => s.ms)))}–${n(Math.max(...runs.map((s) => s.ms)))} | ` +
        `${n(of(runs, (s) => s.liveEntities))} | ${n(bytes)} | ${n(of(runs, (s) => s.bytesPerEntityHashes))} | ` +
        `${(of(runs, (s) => s.usedMemoryBytes) / 1_048_576).toFixed(1)} MiB | ` +
        `${limit === undefined ? '—' : `<= ${n(limit)} ms: ${verdict(ms, limit, 'lower')}`} | ${verdict(bytes, 1_024, 'lower')} |`
      );
    }),
    '',
  ];
}

function workerSection(
  worker: WorkerPartResult | undefined,
  options: CapacityOptions,
  backlogEvents: number,
  catchUpFactor: number,
): string[] {
  if (!worker) return [];
  const mixEps = of(worker.mix, (s) => s.eventsPerSecond);
  const mixRows = of(worker.mix, (s) => s.entityRowsPer1000Events);
  const noSnapshotEps = of(worker.mixWithoutSnapshots, (s) => s.eventsPerSecond);
  const distinctRows = of(worker.distinct, (s) => s.entityRowsPerSecond);
  const raw = median(worker.rawRowsPerSecond);
  const backlog = options.backlogSeconds * options.backlogRate;
  return [
    '## 2. Worker catch-up',
    '',
    `Backlog: ${options.backlogSeconds} s of the simulated mix at ${n(options.backlogRate)} events/s = ${n(backlog)} events ` +
      `from the ${options.activePlayers}-player session on this world (the sim's action weights: moves, gold, xp, trades, ` +
      'fights with transient combat, transient dialogue, quest steps with ~1 % major quest completions), every event folded ' +
      'with `evolve` as it was made and written into the stream as lk_append_v2 writes it (XADD `<seq>-0` with the event as JSON, pipelined), ' +
      `stamped (\`meta.at\`) as if played evenly over the ${options.backlogSeconds} s before the write: what a worker finds after being away that long. Then the ` +
      `running worker (defaults: BACKLOG_EVENTS ${n(backlogEvents)}, CATCH_UP_BACKLOG_FACTOR ${n(catchUpFactor)}: ` +
      `flushes of up to ${n(backlogEvents * catchUpFactor)} events while it is behind) is told the campaign is active and timed until the ` +
      'Postgres checkpoint reaches the last seq. Rows from its sync_log. After each catch-up the session ends and the bench ' +
      'waits until nothing else works in its database: a replay snapshot the worker started (due each time as many events as ' +
      'the world has entities have passed since the last, the first counted from the created world; one that comes due while the worker ' +
      'catches up waits until it has, up to one more interval) is copied to the end before the next scenario starts.',
    '',
    '| load | events | events/s (median) | entity rows / 1,000 events | flushes | events archived | target |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    `| simulated mix, ${options.backlogSeconds / 60 >= 1 ? `${options.backlogSeconds / 60}-minute` : `${options.backlogSeconds}-s`} backlog | ` +
      `${n(of(worker.mix, (s) => s.events))} | ${n(mixEps)} | ${mixRows.toFixed(1)} | ${n(of(worker.mix, (s) => s.flushes))} | ` +
      `${n(of(worker.mix, (s) => s.eventsArchived))} | >= 100,000 events/s: ${verdict(mixEps, 100_000, 'higher')}; ` +
      `<= 100 rows / 1,000: ${verdict(mixRows, 100, 'lower')} |`,
    `| the same mix, worker with SNAPSHOT_EVERY_EVENTS=0 (no replay snapshots) | ` +
      `${n(of(worker.mixWithoutSnapshots, (s) => s.events))} | ${n(noSnapshotEps)} | ` +
      `${of(worker.mixWithoutSnapshots, (s) => s.entityRowsPer1000Events).toFixed(1)} | ` +
      `${n(of(worker.mixWithoutSnapshots, (s) => s.flushes))} | ${n(of(worker.mixWithoutSnapshots, (s) => s.eventsArchived))} | ` +
      `>= 100,000 events/s: ${verdict(noSnapshotEps, 100_000, 'higher')} |`,
    `| all-distinct entities (player.gold.changed, one per player) | ${n(of(worker.distinct, (s) => s.events))} | ` +
      `${n(of(worker.distinct, (s) => s.eventsPerSecond))} | 1,000 | ${n(of(worker.distinct, (s) => s.flushes))} | ` +
      `${n(of(worker.distinct, (s) => s.eventsArchived))} | see below |`,
    '',
    '| contender (same run, same rows) | entity rows/s (median) | × raw | target |',
    '| --- | ---: | ---: | --- |',
    `| worker on all-distinct entities (read each, fold, upsert, archive, checkpoint) | ${n(distinctRows)} | ` +
      `${(distinctRows / raw).toFixed(2)} | >= 0.70 × raw: ${verdict(distinctRows / raw, 0.7, 'higher')} |`,
    `| raw UNNEST upserts, ${options.rawBatch} rows per statement, a transaction each | ${n(raw)} | 1.00 | ceiling |`,
    '',
    ...distinctStartNote(worker.distinctFromCheckpoint),
    `Catch-up after a ${options.backlogSeconds}-s backlog: ${n(mixEps)} events/s, target >= 100,000: ${verdict(mixEps, 100_000, 'higher')}.`,
    '',
    ...replaySection(worker.replay),
  ];
}

/** `state --at` on this world after the rounds (said only where the results record it). */
function replaySection(replay: ReplayTiming | undefined): string[] {
  if (!replay) return [];
  const seconds = median(replay.seconds);
  return [
    '### `state --at` on this world',
    '',
    '`lorekeeper state <campaign> --at <checkpoint> --format jsonl --no-redis` in a process of its own, its output ' +
      "counted and dropped, once the rounds are over: the replay snapshots' chain read (the created world, then each " +
      "snapshot of what changed since the one before), the archive folded on from the chain's last snapshot (rounds " +
      'without replay snapshots leave their events to that fold), every entity printed. `npm run bench:replay` judges ' +
      'the target with the same command on a small world with 1,000,000 archived events; this is the world above.',
    '',
    '| history (events) | snapshots in the chain | their rows | last snapshot at seq | archived events folded past it | entities printed | seconds (median of ' +
      `${replay.seconds.length}) | min–max s | target (<= 5 s) |`,
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    `| ${n(replay.seq)} | ${replay.chain.snapshots} | ${n(replay.chain.rows)} | ${n(replay.chain.seq)} | ${n(replay.folded)} | ` +
      `${n(replay.entities)} | ${seconds.toFixed(2)} | ${Math.min(...replay.seconds).toFixed(2)}–` +
      `${Math.max(...replay.seconds).toFixed(2)} | ${verdict(seconds, 5, 'lower')} |`,
    '',
  ];
}

/** How the two sides of the all-distinct ratio began (said only where the results record it). */
function distinctStartNote(fromCheckpoint: boolean | undefined): string[] {
  if (fromCheckpoint === undefined) return [];
  return [
    fromCheckpoint
      ? 'Each side of that ratio starts right after a `CHECKPOINT` run to its end (not timed): neither runs inside the ' +
        "checkpoint that the mix round's WAL begins, or among the dirty buffers it left."
      : "Postgres refused `CHECKPOINT` to the bench's role (it needs superuser or pg_checkpoint): the worker's " +
        'all-distinct round ran from the state the mix round left, perhaps inside a checkpoint of its own, and the raw ' +
        'upserts after it; the ratio is biased against the worker.',
    '',
  ];
}

function lagSection(
  lag: LagPartResult | undefined,
  options: CapacityOptions,
  defaults: { autosaveIntervalMs: number; backlogEvents: number; backlogBytes: number },
): string[] {
  if (!lag) return [];
  const appendSat = median(lag.saturation.map((s) => s.appendEventsPerSecond));
  const durableSat = median(lag.saturation.map((s) => s.durableEventsPerSecond));
  return [
    '## 3. Event-to-durable lag at 50 % load',
    '',
    `Appends of ${options.appendBatch} events (gold and xp on one of the ${options.activePlayers} session players) through the ` +
      'real session service, with the worker running (defaults). Saturation, 64 appends in flight for ' +
      `${options.saturationSeconds} s: ${n(appendSat)} events/s appended, ${n(durableSat)} events/s durable (the same ` +
      'events over the time until the checkpoint covered the last one). "50 % load" is half of the lower, the durable rate ' +
      `(a load at half the append rate would outrun the worker and grow the lag without bound): ` +
      `${n(lag.offeredEventsPerSecond)} events/s (${((lag.offeredEventsPerSecond / appendSat) * 100).toFixed(0)} % ` +
      `of the append rate), offered open loop for ${options.lagSeconds} s. Every append after a 2-s warm-up is a sample: the ` +
      "time from its reply to the first poll (every 10 ms) that finds the campaigns row's checkpoint_seq at or past its last " +
      'seq (nothing in the schema NOTIFYs). Worker defaults: ' +
      `AUTOSAVE_INTERVAL_MS ${n(defaults.autosaveIntervalMs)}, BACKLOG_EVENTS ${n(defaults.backlogEvents)}, ` +
      `BACKLOG_BYTES ${n(defaults.backlogBytes)}. The target is for continuous mode (AUTOSAVE_INTERVAL_MS=0: the next ` +
      'flush starts as soon as the last one ends); the defaults and a 250-ms autosave are measured beside it.',
    '',
    '| worker setting | achieved events/s | lag p50 ms | lag p99 ms | lag p99.9 ms | samples | target p99 <= 1,000 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...LAG_SETTINGS.filter((setting) => lag.bySetting[setting.name]).map((setting) => {
      const runs = lag.bySetting[setting.name] ?? [];
      const p99 = of(runs, (s) => s.lagMs.p99);
      return (
        `| ${setting.name} | ${n(of(runs, (s) => s.achievedEventsPerSecond))} | ${n(of(runs, (s) => s.lagMs.p50))} | ${n(p99)} | ` +
        `${n(of(runs, (s) => s.lagMs.p999))} | ${n(of(runs, (s) => s.lagMs.count))} | ${isContinuous(setting) ? verdict(p99, 1_000, 'lower') : "not the target's mode"} |`
      );
    }),
    '',
  ];
}

function profileSection(worker: WorkerPartResult | undefined): string[] {
  const profile = worker?.profile;
  if (!profile) return [];
  const pct = (share: number) => `${(share * 100).toFixed(1)} %`;
  return [
    '## Where the worker spends its time',
    '',
    `\`node --cpu-prof\` on the worker through one more (uncounted) mix round, summed over its catch-up (from the campaign's activation ` +
      `until the checkpoint reached the backlog's end): ${(profile.totalMs / 1_000).toFixed(1)} s, ` +
      `${pct(profile.idleShare)} idle (waiting on Redis or Postgres), ${pct(profile.gcShare)} garbage collection. ` +
      'Top functions by self time:',
    '',
    '| function | where | self ms | share of the profile |',
    '| --- | --- | ---: | ---: |',
    ...profile.top.map((f) => `| \`${f.name}\` | ${f.where} | ${n(f.selfMs)} | ${pct(f.share)} |`),
    '',
  ];
}
