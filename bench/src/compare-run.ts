import type { WorldDocument } from '@lorekeeper/domain';
import type { CacheLookups, Contender } from './contenders';
import type { CpuSource } from './cpu';
import { cpuBetween, readCpu } from './cpu';
import type { StepResult } from './open-loop';
import { runStep } from './open-loop';
import type { RedisFootprint } from './redis-footprint';
import type { Workload } from './workload';

export interface Scenario {
  /** For `--scenarios`: game-mix, hot-entities. */
  readonly key: string;
  readonly name: string;
  world(campaignId: string): WorldDocument;
  players(world: WorldDocument): string[];
  workload(world: WorldDocument, players: readonly string[]): Workload;
}

export interface Plan {
  readonly probeSeconds: number;
  readonly stepSeconds: number;
  /** Offered loads of the ramp, as fractions of what a closed-loop probe reached. */
  readonly rampFractions: readonly number[];
  /** Requests in flight during the probe (a closed loop, like bench:append). */
  readonly probeInFlight: number;
  /** The open loop's bound on requests in flight; never reached below saturation. */
  readonly maxOutstanding: number;
}

/** One contender on one scenario in one round. */
export interface BlockResult {
  readonly contender: string;
  readonly scenario: string;
  readonly round: number;
  readonly probe: StepResult;
  readonly ramp: readonly StepResult[];
  /** The most events/s it sustained on any ramp step. */
  readonly saturation: number;
  /** False when even the highest offered load was carried (saturation is then a lower bound). */
  readonly saturated: boolean;
  readonly at50: StepResult;
  readonly at90: StepResult;
  /** CPU seconds per process over the 90% step and the settling after it. */
  readonly cpuSeconds: Readonly<Record<string, number>>;
  /** Postgres rows written over the same span. */
  readonly rowsWritten: number;
  /**
   * Of those, a replay snapshot's (Lorekeeper only): one every SNAPSHOT_EVERY_EVENTS copies what
   * changed since the last (now and then the whole world), so whether a step holds one is chance and
   * moves its rows and Postgres CPU between rounds.
   */
  readonly snapshotRowsWritten?: number;
  /** How long after the 90% step its last event took to become durable (0 for contenders without a worker). */
  readonly settleMs: number;
  /** What it kept in Redis once the 90% step was durable; absent for contenders that do not use Redis. */
  readonly redis?: RedisFootprint;
  /** Appends retried after a version conflict, over the whole block. */
  readonly retries: number;
  /** Of the appends in the 90% step, the share validated against the session service's LiveCache. */
  readonly cacheHitShare?: number;
}

/** Steps added past the planned ramp while its top step is still carried, each this much higher. */
export const RAMP_EXTENSIONS = 4;
export const RAMP_EXTENSION_FACTOR = 1.5;

/** A step that did not carry what it offered. A few unsent requests are timer jitter on a busy machine. */
function isSaturated(step: StepResult): boolean {
  return step.achieved < 0.95 * step.offered || step.unsent > 0.01 * step.requests;
}

/**
 * Probe, ramp up, then hold 50% and 90% of the saturation found; CPU and Postgres rows are counted
 * over the 90% step until its events are durable, so a contender that defers work (the worker) pays
 * for it in the same window.
 */
export async function runBlock(
  contender: Contender,
  scenario: Scenario,
  round: number,
  plan: Plan,
  cpu: readonly CpuSource[],
  log: (line: string) => void,
): Promise<BlockResult> {
  const world = scenario.world(`cmp-${Date.now().toString(36)}-${round}`);
  const players = scenario.players(world);
  const workload = scenario.workload(world, players);
  const prepared = await contender.prepare(world, players);
  const step = async (eventsPerSecond: number, seconds: number, maxOutstanding: number) => {
    // Every step starts from a quiet system: nothing left for the worker from the step before.
    await prepared.settle();
    const result = await runStep(
      { eventsPerSecond, seconds, batch: contender.batch, maxOutstanding },
      workload,
      prepared.send,
    );
    // Correct the generator where the contender refused: it must not go on from a state that is not there.
    for (const id of new Set(result.refusedEntities)) workload.forget(id, await prepared.fetch(id));
    log(
      `  ${contender.name.padEnd(52)} offered ${fmt(eventsPerSecond).padStart(8)}  got ${fmt(result.achieved).padStart(8)} ev/s  ` +
        `p99 ${result.latencyMs.p99.toFixed(1)} ms${refusals(result)}`,
    );
    return result;
  };
  try {
    const probe = await step(Infinity, plan.probeSeconds, plan.probeInFlight);
    const base = Math.max(50, probe.achieved);
    const ramp: StepResult[] = [];
    for (const fraction of plan.rampFractions)
      ramp.push(await step(base * fraction, plan.stepSeconds, plan.maxOutstanding));
    // The closed-loop probe can sit far below what open loop carries (64 requests in flight queue
    // behind each other on the entities they share): while the top step is carried, go on higher.
    for (let extra = 0; extra < RAMP_EXTENSIONS && !isSaturated(ramp.at(-1)!); extra += 1) {
      ramp.push(
        await step(ramp.at(-1)!.offered * RAMP_EXTENSION_FACTOR, plan.stepSeconds, plan.maxOutstanding),
      );
    }
    const saturation = Math.max(...ramp.map((r) => r.achieved));
    const saturated = isSaturated(ramp.at(-1)!);
    const at50 = await step(saturation * 0.5, plan.stepSeconds, plan.maxOutstanding);
    await prepared.settle();
    const rowsBefore = await prepared.rowsWritten();
    const snapshotRowsBefore = await prepared.snapshotRowsWritten?.();
    const cpuBefore = readCpu(cpu);
    const lookupsBefore = await prepared.cacheLookups?.();
    const at90 = await step(saturation * 0.9, plan.stepSeconds, plan.maxOutstanding);
    const settling = performance.now();
    await prepared.settle();
    const settleMs = performance.now() - settling;
    const cpuSeconds = cpuBetween(cpuBefore, readCpu(cpu));
    const rows = (await prepared.rowsWritten()) - rowsBefore;
    const snapshotRows =
      snapshotRowsBefore === undefined
        ? undefined
        : (await prepared.snapshotRowsWritten!()) - snapshotRowsBefore;
    const redis = await prepared.redisFootprint?.();
    const lookupsAfter = await prepared.cacheLookups?.();
    const cacheHitShare = lookupsBefore && lookupsAfter && hitShare(lookupsBefore, lookupsAfter);
    return {
      contender: contender.name,
      scenario: scenario.name,
      round,
      probe,
      ramp,
      saturation,
      saturated,
      at50,
      at90,
      cpuSeconds,
      rowsWritten: rows,
      ...(snapshotRows === undefined ? {} : { snapshotRowsWritten: snapshotRows }),
      settleMs,
      ...(redis ? { redis } : {}),
      retries: prepared.retries?.() ?? 0,
      ...(cacheHitShare === undefined ? {} : { cacheHitShare }),
    };
  } finally {
    await prepared.cleanup();
  }
}

function hitShare(before: CacheLookups, after: CacheLookups): number | undefined {
  const hits = after.hit - before.hit;
  const all = hits + after.miss - before.miss + after.stale - before.stale;
  return all > 0 ? hits / all : undefined;
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toString() : 'max');

function refusals(result: StepResult): string {
  const codes = Object.entries(result.refused).map(([code, n]) => `${code} ${n}`);
  if (result.failed > 0) codes.push(`failed ${result.failed}`);
  if (result.unsent > 0) codes.push(`unsent ${result.unsent}`);
  return codes.length > 0 ? `  (${codes.join(', ')})` : '';
}

/**
 * An unmeasured closed-loop burst before round 1: the first block after the services start would
 * otherwise pay for their JIT, connection pools and caches, and in a one-round run that is the
 * whole of the first contender's figure.
 */
export async function warmUp(contender: Contender, scenario: Scenario, plan: Plan): Promise<void> {
  const world = scenario.world(`cmp-warm-${Date.now().toString(36)}`);
  const players = scenario.players(world);
  const workload = scenario.workload(world, players);
  const prepared = await contender.prepare(world, players);
  try {
    const burst = { eventsPerSecond: Infinity, seconds: plan.probeSeconds, batch: contender.batch };
    await runStep({ ...burst, maxOutstanding: plan.probeInFlight }, workload, prepared.send);
    await prepared.settle();
  } finally {
    await prepared.cleanup();
  }
}
