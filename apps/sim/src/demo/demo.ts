import type { Config } from '@lorekeeper/config';
import { LorekeeperClient } from '@lorekeeper/client';
import type { Entity } from '@lorekeeper/domain';
import { generateWorld, referenceRegistry, seededRandom } from '@lorekeeper/domain';
import { readCheckpoint, readEvents, readSyncLog } from '@lorekeeper/pg-store';
import { readHeadSeq } from '@lorekeeper/redis-store';
import type { VerifyReport } from '@lorekeeper/replay';
import { verifyCampaign } from '@lorekeeper/replay';
import { connect } from 'nats';
import type { GameReport } from '../game';
import { playGame } from '../game';
import type { Say, StartedService, Stores } from './services';
import { ensureServices, reachStores } from './services';
import { AppendStats, quantile } from './stats';

export interface DemoOptions {
  readonly durationSeconds: number;
  readonly players: number;
  /** Player actions per second, over all game servers. */
  readonly rate: number;
  readonly servers: number;
  readonly regions: number;
  readonly npcs: number;
  readonly items: number;
  readonly quests: number;
  readonly seed: number;
  readonly campaignId: string;
  /** Start the session service and worker when they are not running (default true). */
  readonly startServices: boolean;
  readonly logDir: string;
  /** Write the live progress line (to stderr). */
  readonly progress: 'tty' | 'lines' | 'off';
}

export interface DemoSummary {
  readonly ok: boolean;
  readonly campaignId: string;
  readonly seed: number;
  readonly gameServers: number;
  readonly players: number;
  readonly entities: number;
  readonly durationSeconds: number;
  readonly appends: number;
  readonly events: number;
  readonly refused: number;
  readonly eventsPerSecond: number;
  readonly appendLatencyMs: { readonly p50: number; readonly p99: number; readonly max: number };
  readonly eventsByType: Record<string, { count: number; persistence: string }>;
  readonly persistentEvents: number;
  readonly transientEvents: number;
  readonly lastSeq: number;
  readonly postgres: {
    readonly checkpointSeq: number;
    readonly eventsArchived: number;
    readonly flushes: number;
    readonly failedFlushes: number;
    readonly entitiesWritten: number;
    readonly entitiesDeleted: number;
  };
  readonly verification: {
    readonly ok: boolean;
    /** The archive holds exactly the persistent events the game servers saw acknowledged, by seq. */
    readonly archiveMatchesAcknowledged: boolean;
    readonly eventsFolded: number;
    readonly entitiesCompared: number;
    readonly mismatches: VerifyReport['postgres']['mismatches'];
    readonly error?: string;
  };
  readonly servicesStarted: readonly string[];
  readonly replayCommand: string;
  readonly verifyCommand: string;
}

/**
 * The whole demo: reach the stores (docker compose when needed), migrate, start the services that are
 * not running, create a generated world, play it with several game servers for the duration while
 * printing progress, save and end the session, and check Postgres against the fold of the log.
 */
export async function runDemo(options: DemoOptions, config: Config, say: Say): Promise<DemoSummary> {
  const stores = await reachStores(config, say);
  let started: StartedService[] = [];
  try {
    if (options.startServices) {
      // The demo's own worker autosaves every 5 s so the progress line shows checkpoints moving.
      const env = {
        LOG_LEVEL: 'info',
        SESSION_HTTP_PORT: '0',
        WORKER_HTTP_PORT: '0',
        AUTOSAVE_INTERVAL_MS: '5000',
      };
      started = await ensureServices(stores, config, { logDir: options.logDir, env }, say);
    }
    return await play(stores, options, config, say, started);
  } finally {
    for (const service of started) await service.stop();
    await Promise.allSettled([stores.nats.close(), stores.db.destroy(), stores.redis.quit()]);
  }
}

async function play(
  stores: Stores,
  options: DemoOptions,
  config: Config,
  say: Say,
  started: readonly StartedService[],
): Promise<DemoSummary> {
  const { campaignId } = options;
  const world = generateWorld({
    campaignId,
    name: `Demo world (seed ${options.seed})`,
    regions: options.regions,
    players: options.players,
    npcs: options.npcs,
    items: options.items,
    quests: options.quests,
    seed: options.seed,
  });
  const control = new LorekeeperClient(stores.nats);
  await control.createCampaign(world);
  const players = Array.from({ length: options.players }, (_, i) => `player:p${i}`);
  const { sessionId } = await control.startSession(campaignId, players);
  say(
    `campaign ${campaignId}: ${world.entities.length} entities, ${options.players} players on ` +
      `${options.servers} game servers, ${options.rate} actions/s for ${options.durationSeconds} s`,
  );

  const stats = new AppendStats();
  const initial = new Map<string, Entity>(world.entities.map((e) => [e.id, e]));
  const connections = await Promise.all(
    Array.from({ length: options.servers }, (_, i) =>
      connect({ servers: config.natsUrl, name: `demo-game-server-${i}`, noAsyncTraces: true }),
    ),
  );
  const progress = startProgress(stores, campaignId, stats, options.progress);
  let reports: GameReport[];
  try {
    reports = await Promise.all(
      connections.map((nats, server) =>
        playGame(new LorekeeperClient(nats), initial, {
          campaignId,
          sessionId,
          players: players.filter((_, i) => i % options.servers === server),
          actionsPerSecond: options.rate / options.servers,
          durationMs: options.durationSeconds * 1_000,
          random: seededRandom(options.seed * 1_000 + server),
          onAppend: (ms, events) => stats.record(ms, events),
        }),
      ),
    );
  } finally {
    progress.stop();
    await Promise.allSettled(connections.map((nats) => nats.close()));
  }

  say('saving and ending the session...');
  await control.save(campaignId, sessionId);
  const ended = await control.endSession(campaignId, sessionId);
  return summarise(stores, options, reports, stats, ended.seq, world.entities.length, started);
}

async function summarise(
  stores: Stores,
  options: DemoOptions,
  reports: readonly GameReport[],
  stats: AppendStats,
  lastSeq: number,
  entities: number,
  started: readonly StartedService[],
): Promise<DemoSummary> {
  const { campaignId } = options;
  const played = reports.flatMap((report) => report.played).sort((a, b) => a.seq - b.seq);
  const eventsByType: Record<string, { count: number; persistence: string }> = {};
  for (const event of played) {
    const persistence = referenceRegistry.event(event.type)?.persistence ?? 'unknown';
    const entry = (eventsByType[event.type] ??= { count: 0, persistence });
    entry.count += 1;
  }
  const persistentSeqs = played
    .filter((event) => eventsByType[event.type]?.persistence === 'persistent')
    .map((event) => event.seq);

  const checkpoint = await readCheckpoint(stores.db, campaignId);
  const archived = (await readEvents(stores.db, campaignId)).map((event) => event.seq);
  const flushes = await readSyncLog(stores.db, campaignId, 1_000_000);
  const committed = flushes.filter((flush) => flush.error === null);
  const report = await verifyCampaign(stores.db, campaignId);
  const archiveMatchesAcknowledged =
    archived.length === persistentSeqs.length && archived.every((seq, i) => seq === persistentSeqs[i]);
  const ok = report.ok && archiveMatchesAcknowledged && checkpoint.seq === lastSeq;
  const durationSeconds = options.durationSeconds;
  return {
    ok,
    campaignId,
    seed: options.seed,
    gameServers: options.servers,
    players: options.players,
    entities,
    durationSeconds,
    appends: stats.appends,
    events: played.length,
    refused: reports.reduce((sum, r) => sum + r.refused, 0),
    eventsPerSecond: Math.round(played.length / durationSeconds),
    appendLatencyMs: {
      p50: round(quantile(stats.latenciesMs, 0.5)),
      p99: round(quantile(stats.latenciesMs, 0.99)),
      max: round(Math.max(0, ...stats.latenciesMs)),
    },
    eventsByType,
    persistentEvents: persistentSeqs.length,
    transientEvents: played.length - persistentSeqs.length,
    lastSeq,
    postgres: {
      checkpointSeq: checkpoint.seq,
      eventsArchived: archived.length,
      flushes: committed.length,
      failedFlushes: flushes.length - committed.length,
      entitiesWritten: committed.reduce((sum, f) => sum + f.entitiesWritten, 0),
      entitiesDeleted: committed.reduce((sum, f) => sum + f.entitiesDeleted, 0),
    },
    verification: {
      ok,
      archiveMatchesAcknowledged,
      eventsFolded: report.postgres.eventsFolded,
      entitiesCompared: report.postgres.entitiesCompared,
      mismatches: report.postgres.mismatches,
      ...(report.postgres.error !== undefined && { error: report.postgres.error }),
    },
    servicesStarted: started.map((service) => service.name),
    replayCommand: `npx lorekeeper state ${campaignId} --at ${Math.max(1, Math.floor(lastSeq / 2))}`,
    verifyCommand: `npx lorekeeper verify ${campaignId}`,
  };
}

const round = (ms: number): number => Math.round(ms * 100) / 100;

/**
 * Once a second: events/s and append latency over the last seconds, the worker's lag (Redis head minus
 * the Postgres checkpoint) and the last checkpoint's age. Rewrites one line on a terminal; otherwise
 * prints a line every 5 s.
 */
function startProgress(
  stores: Stores,
  campaignId: string,
  stats: AppendStats,
  mode: DemoOptions['progress'],
): { stop(): void } {
  if (mode === 'off') return { stop() {} };
  const begun = Date.now();
  let lastCheckpoint = { seq: -1, at: Date.now() };
  let ticks = 0;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void Promise.all([readHeadSeq(stores.redis, campaignId), readCheckpoint(stores.db, campaignId)])
      .then(([head, checkpoint]) => {
        if (checkpoint.seq !== lastCheckpoint.seq) lastCheckpoint = { seq: checkpoint.seq, at: Date.now() };
        ticks += 1;
        const w = stats.window();
        const line =
          `${String(Math.round((Date.now() - begun) / 1_000)).padStart(3)} s  ` +
          `${Math.round(w.eventsPerSecond).toLocaleString('en-US')} events/s  ` +
          `append p50 ${w.p50.toFixed(1)} ms p99 ${w.p99.toFixed(1)} ms  ` +
          `worker lag ${(head - checkpoint.seq).toLocaleString('en-US')} events  ` +
          (checkpoint.seq === 0
            ? 'no checkpoint yet'
            : `checkpoint #${checkpoint.seq.toLocaleString('en-US')} ` +
              `(${((Date.now() - lastCheckpoint.at) / 1_000).toFixed(1)} s ago)`);
        if (mode === 'tty') process.stderr.write(`\r\x1b[2K${line}`);
        else if (ticks % 5 === 0) process.stderr.write(`${line}\n`);
      })
      .catch(() => undefined)
      .finally(() => {
        busy = false;
      });
  }, 1_000);
  return {
    stop() {
      clearInterval(timer);
      if (mode === 'tty') process.stderr.write('\n');
    },
  };
}
