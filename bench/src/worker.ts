/**
 * Persistence worker catch-up: a backlog of events already in the Redis stream is folded and
 * checkpointed into Postgres; measured as events per second and Postgres rows written per event, for
 * a uniform load (many players) and a hot-entity load (ten players). Beside it, in the same script, the
 * same events written straight to Postgres, one transaction per event (read the row, update it,
 * insert the event): the design people reach for first. Interleaved rounds; medians and ratios.
 *
 *   npm run bench:worker [-- --quick] [-- --events 50000 --rounds 3]
 */
import { randomUUID } from 'node:crypto';
import { cpus } from 'node:os';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { loadConfig } from '@lorekeeper/config';
import type { Entity } from '@lorekeeper/domain';
import { flushRequestSubject } from '@lorekeeper/protocol';
import {
  createDatabase,
  dropDatabase,
  ensureDatabaseExists,
  insertCampaign,
  insertEntities,
  migrateToLatest,
  readCheckpoint,
} from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import {
  EVENT_FIELD,
  campaignKeys,
  connectRedis,
  deleteCampaignKeys,
  loadFunctions,
  markCampaignActive,
  registerSession,
  streamEventJson,
  streamIdOf,
} from '@lorekeeper/redis-store';
import { spawnService, startPrivateNats, uniqueDatabaseUrl, waitUntil } from '@lorekeeper/testing';
import { numberFlag, runBench, writeResults } from './results';
import { median } from './stats';
import { writeThrough } from './write-through';
import { checkArgs } from './usage';

checkArgs({
  command: 'npm run bench:worker --',
  summary: 'Worker catch-up of a backlog beside naive write-through of the same events.',
  options: [
    { name: 'quick', help: '20,000 events, one round' },
    { name: 'events', value: 'N', help: 'events in the backlog (50,000)' },
    { name: 'naive-events', value: 'N', help: 'events written through (5,000)' },
    { name: 'rounds', value: 'N', help: 'rounds (3; 1 with --quick)' },
  ],
});
const flag = numberFlag;
const quick = process.argv.includes('--quick');
const EVENTS = flag('events', quick ? 20_000 : 50_000);
const NAIVE_EVENTS = flag('naive-events', quick ? 2_000 : 5_000);
const ROUNDS = flag('rounds', quick ? 1 : 3);

type Shape = 'uniform' | 'hot';
const PLAYERS: Record<Shape, number> = { uniform: 2_000, hot: 10 };

function world(shape: Shape): Entity[] {
  const entities: Entity[] = [
    { id: 'world', kind: 'world', version: 0, state: { flags: {} } },
    { id: 'region:r0', kind: 'region', version: 0, state: { name: 'R0', neighbors: [] } },
  ];
  for (let i = 0; i < PLAYERS[shape]; i += 1) {
    entities.push({
      id: `player:p${i}`,
      kind: 'player',
      version: 0,
      state: { name: `P${i}`, regionId: 'region:r0', gold: 0, xp: 0 },
    });
  }
  return entities;
}

async function freshCampaign(db: ReturnType<typeof createDatabase>, shape: Shape): Promise<string> {
  const campaignId = `bench-${shape}-${randomUUID().slice(0, 8)}`;
  await db.transaction().execute(async (trx) => {
    await insertCampaign(trx, { id: campaignId, name: campaignId });
    await insertEntities(trx, campaignId, world(shape));
  });
  return campaignId;
}

/** Write `count` gold events into the campaign's stream the way lk_append_v2 would (ids <seq>-0). */
async function fillStream(redis: Redis, campaignId: string, shape: Shape, count: number): Promise<void> {
  const keys = campaignKeys(campaignId);
  await registerSession(redis, campaignId, randomUUID(), 0, new Date().toISOString());
  const versions = new Map<string, number>();
  const meta = JSON.stringify({ sessionId: 'bench', batchId: 'bench', at: new Date().toISOString() });
  for (let start = 0; start < count; start += 1_000) {
    const pipeline = redis.pipeline();
    for (let seq = start + 1; seq <= Math.min(count, start + 1_000); seq += 1) {
      const entityId = `player:p${(seq * 7919) % PLAYERS[shape]}`;
      const version = (versions.get(entityId) ?? 0) + 1;
      versions.set(entityId, version);
      pipeline.xadd(
        keys.events,
        streamIdOf(seq),
        EVENT_FIELD,
        streamEventJson({ type: 'player.gold.changed', entityId, version, data: { delta: 1 } }, meta),
      );
    }
    await pipeline.exec();
  }
  await redis.set(keys.seq, count);
}

interface Services {
  readonly db: ReturnType<typeof createDatabase>;
  readonly redis: Redis;
  readonly nats: NatsConnection;
}

async function lorekeeperRound(s: Services, shape: Shape): Promise<{ eps: number; rowsPerEvent: number }> {
  const campaignId = await freshCampaign(s.db, shape);
  await fillStream(s.redis, campaignId, shape, EVENTS);
  // The worker process is already running; it discovers the campaign within 200 ms.
  const started = performance.now();
  await markCampaignActive(s.redis, campaignId);
  // The backlog bound flushes as it goes; ask for the tail like a save would.
  await waitUntil(
    async () => {
      s.nats.publish(flushRequestSubject(campaignId), JSON.stringify({ campaignId, trigger: 'manual' }));
      return (await readCheckpoint(s.db, campaignId)).seq >= EVENTS;
    },
    600_000,
    'the worker to catch up',
  );
  const seconds = (performance.now() - started) / 1_000;
  const rows = await s.db
    .selectFrom('sync_log')
    .select((eb) => eb.fn.sum<number>('entities_written').as('n'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
  await deleteCampaignKeys(s.redis, campaignId);
  return { eps: EVENTS / seconds, rowsPerEvent: Number(rows.n) / EVENTS };
}

/** Write-through: every event its own transaction that reads, updates and logs. */
async function naiveRound(
  db: ReturnType<typeof createDatabase>,
  shape: Shape,
): Promise<{ eps: number; rowsPerEvent: number }> {
  const campaignId = await freshCampaign(db, shape);
  const started = performance.now();
  const inFlight = 8;
  let next = 1;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let seq = next++; seq <= NAIVE_EVENTS; seq = next++) {
        const entityId = `player:p${(seq * 7919) % PLAYERS[shape]}`;
        await writeThrough(db, campaignId, seq, {
          type: 'player.gold.changed',
          entityId,
          data: { delta: 1 },
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  return { eps: NAIVE_EVENTS / seconds, rowsPerEvent: 1 };
}

async function main(): Promise<void> {
  const databaseUrl = uniqueDatabaseUrl('bench_worker');
  await ensureDatabaseExists(databaseUrl);
  const db = createDatabase(databaseUrl);
  await migrateToLatest(db);
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl });
  const redis = await connectRedis(config.redisUrl);
  await loadFunctions(redis);
  const natsServer = await startPrivateNats();
  const nats = await connect({ servers: natsServer.url, noAsyncTraces: true });
  const worker = await spawnService('persistence-worker', {
    DATABASE_URL: databaseUrl,
    NATS_URL: natsServer.url,
  });
  const services: Services = { db, redis, nats };
  const results: Record<string, { eps: number[]; rowsPerEvent: number[] }> = {};
  const record = (name: string, r: { eps: number; rowsPerEvent: number }) => {
    results[name] ??= { eps: [], rowsPerEvent: [] };
    results[name].eps.push(r.eps);
    results[name].rowsPerEvent.push(r.rowsPerEvent);
    process.stderr.write(
      `${name.padEnd(44)} ${Math.round(r.eps)} events/s, ${r.rowsPerEvent.toFixed(4)} entity rows/event\n`,
    );
  };
  try {
    for (let round = 1; round <= ROUNDS; round += 1) {
      for (const shape of ['uniform', 'hot'] as const) {
        record(`lorekeeper worker, ${shape}`, await lorekeeperRound(services, shape));
        record(`write-through, 1 txn per event, ${shape}`, await naiveRound(db, shape));
      }
    }
  } finally {
    await worker.stop();
    await nats.close();
    await natsServer.stop();
    redis.disconnect();
    await db.destroy();
    await dropDatabase(databaseUrl);
  }
  const row = (name: string) => ({
    eps: median(results[name]?.eps ?? []),
    rows: median(results[name]?.rowsPerEvent ?? []),
  });
  const lines = [
    '# Persistence worker benchmark',
    '',
    `Worker: a backlog of ${EVENTS} events caught up (fold + checkpoint, default backlog bound ${config.worker.backlogEvents}); ` +
      `write-through: ${NAIVE_EVENTS} events, 8 in flight. ${ROUNDS} interleaved round(s), medians; ${cpus().length} cores shared.`,
    '',
    '| load | worker events/s | write-through events/s | × write-through | worker entity rows / 1,000 events | write-through rows / 1,000 events |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    ...(['uniform', 'hot'] as const).map((shape) => {
      const worker = row(`lorekeeper worker, ${shape}`);
      const naive = row(`write-through, 1 txn per event, ${shape}`);
      return `| ${shape} (${PLAYERS[shape]} players) | ${Math.round(worker.eps)} | ${Math.round(naive.eps)} | ${(worker.eps / naive.eps).toFixed(1)} | ${(worker.rows * 1_000).toFixed(1)} | 2,000 (1 update + 1 insert each) |`;
    }),
    '',
    'The worker also archives each persistent event (1 row per event, in UNNEST batches).',
  ];
  writeResults('worker', lines, { EVENTS, NAIVE_EVENTS, ROUNDS, results });
}

runBench(main);
