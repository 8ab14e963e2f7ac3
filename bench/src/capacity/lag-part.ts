import type { ServiceProcess } from '@lorekeeper/testing';
import type { CpuSource } from '../cpu';
import { cpuBetween, readCpu } from '../cpu';
import { median } from '../stats';
import type { LagSample, LoadContext, Saturation } from './durable-lag';
import { durableLag, saturation } from './durable-lag';
import type { CapacityOptions } from './options';
import type { Stack } from './stack';
import { ask } from './stack';

/** A worker configuration the lag is measured under. */
export interface WorkerSetting {
  readonly name: string;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Continuous mode (AUTOSAVE_INTERVAL_MS=0), the mode issue 8's lag target names: its p99 is judged
 * against the target; the other settings are measured beside it for operators choosing one.
 */
export function isContinuous(setting: WorkerSetting): boolean {
  return setting.env['AUTOSAVE_INTERVAL_MS'] === '0';
}

export const LAG_SETTINGS: readonly WorkerSetting[] = [
  { name: 'defaults', env: {} },
  // A flush at most every 250 ms whatever the backlog: the autosave turned into a near-continuous save.
  { name: 'AUTOSAVE_INTERVAL_MS=250', env: { AUTOSAVE_INTERVAL_MS: '250' } },
  // Continuous mode (docs/configuration.md): the next flush starts as soon as the last one ends.
  { name: 'AUTOSAVE_INTERVAL_MS=0', env: { AUTOSAVE_INTERVAL_MS: '0' } },
  // The same without replay snapshots, whose copy of the whole campaign stalls the worker's reads.
  {
    name: 'AUTOSAVE_INTERVAL_MS=0, SNAPSHOT_EVERY_EVENTS=0',
    env: { AUTOSAVE_INTERVAL_MS: '0', SNAPSHOT_EVERY_EVENTS: '0' },
  },
];

export interface LagPartResult {
  /** Per round: the append rate with 64 in flight, and the rate at which it became durable. */
  readonly saturation: Saturation[];
  /** Half of the median durable saturation (the narrower stage): the offered load of every lag run. */
  readonly offeredEventsPerSecond: number;
  readonly bySetting: Record<string, LagSample[]>;
}

/**
 * A session for the active players through the real service; its saturation measured; then, per
 * round and per worker setting, a steady load at half of it with the event-to-durable lag sampled.
 * The worker is restarted for each setting (a graceful stop flushes what it folded). The session is
 * ended properly at the end, so its final sync runs and its keys go.
 */
export async function lagPart(
  stack: Stack,
  session: ServiceProcess,
  campaignId: string,
  players: readonly string[],
  options: CapacityOptions,
  log: (line: string) => void,
): Promise<LagPartResult> {
  const started = await ask(stack.nats, `campaign.${campaignId}.session.start`, { playerIds: players });
  const context: LoadContext = {
    db: stack.db,
    nats: stack.nats,
    campaignId,
    sessionId: started.sessionId as string,
    players,
    batch: options.appendBatch,
  };
  let worker = await stack.spawn('persistence-worker');
  const saturations: Saturation[] = [];
  for (let round = 1; round <= options.rounds; round += 1) {
    const measured = await saturation(context, options.saturationSeconds);
    saturations.push(measured);
    log(
      `saturation, ${options.appendBatch} events per append: ${Math.round(measured.appendEventsPerSecond)} events/s appended, ` +
        `${Math.round(measured.durableEventsPerSecond)} events/s durable`,
    );
  }
  const offered = median(saturations.map((s) => s.durableEventsPerSecond)) / 2;
  const bySetting: Record<string, LagSample[]> = {};
  for (let round = 1; round <= options.rounds; round += 1) {
    for (const setting of LAG_SETTINGS) {
      await worker.stop();
      worker = await stack.spawn('persistence-worker', { ...setting.env });
      const cpu = lagCpu(stack, session, worker);
      const before = readCpu(cpu);
      const measured = await durableLag(context, offered, options.lagSeconds);
      const sample = { ...measured, cpuSeconds: cpuBetween(before, readCpu(cpu)) };
      (bySetting[setting.name] ??= []).push(sample);
      log(
        `lag at ${Math.round(offered)} events/s offered, ${setting.name}: p50 ${sample.lagMs.p50.toFixed(0)} ms, ` +
          `p99 ${sample.lagMs.p99.toFixed(0)} ms (${sample.lagMs.count} samples, ${sample.unresolved} unresolved)`,
      );
    }
  }
  await ask(stack.nats, `campaign.${campaignId}.session.end`, { sessionId: context.sessionId });
  await worker.stop();
  return { saturation: saturations, offeredEventsPerSecond: offered, bySetting };
}

/** Every process the continuous load keeps busy. */
function lagCpu(stack: Stack, session: ServiceProcess, worker: ServiceProcess): CpuSource[] {
  return [
    { label: 'session service', pid: session.process.pid ?? -1 },
    { label: 'persistence worker', pid: worker.process.pid ?? -1 },
    { label: 'nats-server', pid: stack.natsServer.process?.pid ?? -1 },
    { label: 'redis-server', pid: stack.redisServer.process.pid ?? -1 },
    // Every postgres process on the machine: this run's backends, and whatever else uses the server.
    { label: 'postgres (all)', named: 'postgres' },
    { label: 'bench client', self: true },
  ];
}
