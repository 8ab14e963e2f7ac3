import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint } from '@lorekeeper/pg-store';
import type { ServiceProcess } from '@lorekeeper/testing';
import type { CpuSource } from '../cpu';
import { checkpoint } from '../pg-writes';
import { writeBacklog } from './backlog';
import type { CatchUpContext, CatchUpSample } from './catch-up';
import { catchUp, rawUpserts } from './catch-up';
import { SimulatedPlay } from './mix';
import type { CapacityOptions } from './options';
import type { ReplayTiming } from './replay-timing';
import { timeReplay } from './replay-timing';
import type { ProfileSummary } from './profile';
import { summariseProfile } from './profile';
import type { Stack } from './stack';
import type { LoadedWorld } from './world';

export interface WorkerPartResult {
  /** The backlog of the simulated mix, caught up. */
  readonly mix: CatchUpSample[];
  /** The same, by a worker that takes no replay snapshots (SNAPSHOT_EVERY_EVENTS=0). */
  readonly mixWithoutSnapshots: CatchUpSample[];
  /** All-distinct entities: every event on a player nobody else in the backlog touches. */
  readonly distinct: CatchUpSample[];
  /** Raw UNNEST upserts of the same rows as `distinct`, rows per second. */
  readonly rawRowsPerSecond: number[];
  /**
   * Whether each side of the all-distinct ratio started from a finished CHECKPOINT (false: the
   * database role may not run one). Absent in results written before the bench did so.
   */
  distinctFromCheckpoint?: boolean;
  /** `state --at` the checkpoint once the rounds are over. Absent in results written before it was timed. */
  replay?: ReplayTiming;
  readonly profile: ProfileSummary | undefined;
}

/**
 * Interleaved rounds of: a backlog of the simulated mix caught up by the worker; then the worker on
 * all-distinct entities, and the same rows upserted raw. All in the campaign of the loaded world, the
 * seqs going on from round to round (each round is a new session at the Postgres checkpoint).
 */
export async function workerPart(
  stack: Stack,
  world: LoadedWorld,
  players: readonly string[],
  options: CapacityOptions,
  root: string,
  log: (line: string) => void,
): Promise<WorkerPartResult> {
  const play = new SimulatedPlay(world.entities, players, 5);
  const context: CatchUpContext = {
    db: stack.db,
    redis: stack.redis,
    nats: stack.nats,
    campaignId: world.campaignId,
  };
  const distinctIds = Array.from({ length: options.distinctEvents }, (_, i) => `player:p${i}`);
  const result: WorkerPartResult = {
    mix: [],
    mixWithoutSnapshots: [],
    distinct: [],
    rawRowsPerSecond: [],
    distinctFromCheckpoint: true,
    profile: undefined,
  };

  const mixRound = async (cpu?: readonly CpuSource[]) => {
    const from = await readCheckpoint(stack.db, world.campaignId);
    const events = options.backlogSeconds * options.backlogRate;
    const backlog = await writeBacklog(
      stack.redis,
      world.campaignId,
      from.seq,
      events,
      () => play.nextAction(),
      options.backlogSeconds,
    );
    return catchUp({ ...context, ...(cpu ? { cpu } : {}) }, backlog);
  };
  const checkpointBeforeTiming = async () => {
    if (!result.distinctFromCheckpoint || (await checkpoint(stack.db))) return;
    result.distinctFromCheckpoint = false;
    log(
      'CHECKPOINT refused (the role needs superuser or pg_checkpoint): the all-distinct rounds run ' +
        'from whatever state the mix round left, a checkpoint of its own perhaps in progress',
    );
  };
  const distinctRound = async (cpu: readonly CpuSource[]) => {
    const from = await readCheckpoint(stack.db, world.campaignId);
    let next = 0;
    const gold = () => [
      play.play({ type: 'player.gold.changed', entityId: distinctIds[next++] as string, data: { delta: 1 } }),
    ];
    const backlog = await writeBacklog(stack.redis, world.campaignId, from.seq, distinctIds.length, gold);
    // Both sides of the ratio start from a finished checkpoint. Without it the worker ran inside the
    // checkpoint the mix round's WAL had just begun, among its dirty buffers, and the raw upserts
    // after it did not (bench/results/NOTES.md, "Changed after this run").
    await checkpointBeforeTiming();
    const sample = await catchUp({ ...context, cpu }, backlog);
    const rows = distinctIds.map((id) => play.entity(id));
    await checkpointBeforeTiming();
    return { sample, raw: await rawUpserts(stack.db, world.campaignId, rows, options.rawBatch) };
  };

  const logMix = (label: string, mix: CatchUpSample) =>
    log(
      `${label}, mix backlog of ${mix.events}: ${Math.round(mix.eventsPerSecond)} events/s, ` +
        `${mix.entityRowsPer1000Events.toFixed(1)} entity rows / 1,000 events, ${mix.flushes} flushes`,
    );
  for (let round = 1; round <= options.rounds; round += 1) {
    let worker = await stack.spawn('persistence-worker');
    const mix = await mixRound(catchUpCpu(stack, worker));
    result.mix.push(mix);
    logMix('worker', mix);
    const { sample, raw } = await distinctRound(catchUpCpu(stack, worker));
    result.distinct.push(sample);
    result.rawRowsPerSecond.push(raw);
    log(
      `worker, ${sample.events} all-distinct: ${Math.round(sample.entityRowsPerSecond)} entity rows/s; ` +
        `raw UNNEST upserts of ${options.rawBatch}: ${Math.round(raw)} rows/s`,
    );
    await worker.stop();
    // A replay snapshot copies every entity of the campaign inside Postgres, and the worker reads
    // nothing while it runs: on a 1,000,000-entity world that is worth measuring apart.
    worker = await stack.spawn('persistence-worker', { SNAPSHOT_EVERY_EVENTS: '0' });
    const withoutSnapshots = await mixRound(catchUpCpu(stack, worker));
    result.mixWithoutSnapshots.push(withoutSnapshots);
    logMix('worker without replay snapshots', withoutSnapshots);
    await worker.stop();
  }
  result.replay = await timeReplay(stack.db, stack.databaseUrl, root, world.campaignId, 3);
  log(
    `state --at ${result.replay.seq} (chain of ${result.replay.chain.snapshots} snapshots, ` +
      `${result.replay.chain.rows} rows; ${result.replay.folded} events folded past it): ` +
      result.replay.seconds.map((s) => `${s.toFixed(2)} s`).join(', '),
  );
  if (!options.profile) return result;

  // One more mix round, not counted, under the profiler: where the worker's time goes.
  const dir = mkdtempSync(join(tmpdir(), 'lk-capacity-profile-'));
  try {
    const stop = await stack.spawnProfiledWorker(dir);
    const profiled = await mixRound();
    await stop();
    log(`profiled mix round: ${Math.round(profiled.eventsPerSecond)} events/s (under the profiler)`);
    return { ...result, profile: summariseProfile(dir, root, 15, profiled.window) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The processes a catch-up keeps busy: the worker, the private Redis, Postgres, and this script. */
function catchUpCpu(stack: Stack, worker: ServiceProcess): CpuSource[] {
  return [
    { label: 'persistence worker', pid: worker.process.pid ?? -1 },
    { label: 'redis-server', pid: stack.redisServer.process.pid ?? -1 },
    // Every postgres process on the machine: this run's backends, and whatever else uses the server.
    { label: 'postgres (all)', named: 'postgres' },
    { label: 'bench client', self: true },
  ];
}
