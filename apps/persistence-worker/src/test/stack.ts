import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { LorekeeperClient } from '@lorekeeper/client';
import type { CatalogueEvent } from '@lorekeeper/client';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  freePort,
  natsServerBinary,
  spawnService,
  startPrivateRedis,
  tinyWorld,
  uniqueCampaignId,
  waitUntil,
} from '@lorekeeper/testing';
import { connectRedis } from '@lorekeeper/redis-store';
import type { Redis } from '@lorekeeper/redis-store';
import { referenceRegistry } from '@lorekeeper/domain';
import { verifyCampaign } from '@lorekeeper/replay';
import { sql } from 'kysely';

/**
 * A whole Lorekeeper of one fault test's own: a test database, a private Redis, a NATS server on a
 * fixed port (so it can be killed and started again there), the built session service and workers.
 */
export interface Stack {
  readonly db: TestDatabase;
  readonly redis: Redis;
  readonly env: Record<string, string>;
  readonly sessionService: ServiceProcess;
  readonly workers: ServiceProcess[];
  /** The game servers' connection: reconnects forever, as a production game server's should. */
  readonly nats: NatsConnection;
  readonly client: LorekeeperClient;
  killNats(): void;
  startNats(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(
  label: string,
  settings: Record<string, string>,
  workers = 1,
): Promise<Stack> {
  const db = await createTestDatabase(label);
  const redisServer: ServerProcess = await startPrivateRedis();
  const natsPort = await freePort();
  const natsUrl = `nats://127.0.0.1:${natsPort}`;
  let natsServer: ChildProcess | undefined;
  const startNats = async () => {
    const binary = natsServerBinary();
    if (!binary) throw new Error('the fault suite needs a nats-server binary');
    natsServer = spawn(binary, ['-a', '127.0.0.1', '-p', String(natsPort)], { stdio: 'ignore' });
    await waitUntil(
      async () =>
        connect({ servers: natsUrl }).then(
          (c) => c.close().then(() => true),
          () => false,
        ),
      10_000,
      'nats-server',
    );
  };
  await startNats();
  const env = { DATABASE_URL: db.url, REDIS_URL: redisServer.url, NATS_URL: natsUrl, ...settings };
  const sessionService = await spawnService('session-service', env);
  const running: ServiceProcess[] = [];
  for (let i = 0; i < workers; i += 1) running.push(await spawnService('persistence-worker', env));
  const redis = await connectRedis(redisServer.url);
  const nats = await connect({ servers: natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const client = new LorekeeperClient(nats, { timeoutMs: 2_000, appendAttempts: 40 });
  return {
    db,
    redis,
    env,
    sessionService,
    workers: running,
    nats,
    client,
    killNats: () => natsServer?.kill('SIGKILL'),
    startNats,
    async close() {
      await nats.close().catch(() => undefined);
      for (const child of [sessionService, ...running]) {
        if (child.process.signalCode === 'SIGSTOP' || child.process.exitCode === null)
          child.process.kill('SIGCONT');
        if (child.process.exitCode === null && child.process.signalCode === null)
          child.process.kill('SIGKILL');
        await child.exited;
      }
      natsServer?.kill('SIGKILL');
      redis.disconnect();
      await redisServer.stop();
      await db.destroy();
    },
  };
}

/** Players of the tiny world, and what a load loop appends: gold +1, alternating players. */
export const PLAYERS = ['player:alice', 'player:bob'] as const;

export interface Load {
  /** Seqs of every event a game server saw acknowledged, by entity. */
  readonly acked: Map<string, number[]>;
  readonly latencies: { at: number; ms: number }[];
  errors: number;
  stop(): Promise<void>;
}

/**
 * `loops` game-server loops appending one gold change each, as fast as answers come (with the client's
 * idempotent retries); a refused or failed append is counted, never retried by hand.
 */
export function startLoad(stack: Stack, campaignId: string, sessionId: string, loops: number): Load {
  const load: Load = { acked: new Map(), latencies: [], errors: 0, stop: async () => undefined };
  let running = true;
  const loop = async (n: number) => {
    for (let i = 0; running; i += 1) {
      const entityId = PLAYERS[(n + i) % PLAYERS.length] as string;
      const event: CatalogueEvent = { type: 'player.gold.changed', entityId, data: { delta: 1 } };
      const t0 = performance.now();
      try {
        const reply = await stack.client.append(campaignId, sessionId, [event]);
        load.latencies.push({ at: Date.now(), ms: performance.now() - t0 });
        const list = load.acked.get(entityId) ?? [];
        list.push(reply.results[0]?.seq as number);
        load.acked.set(entityId, list);
      } catch {
        load.errors += 1;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  const loopsDone = Promise.all(Array.from({ length: loops }, (_, n) => loop(n)));
  load.stop = async () => {
    running = false;
    await loopsDone;
  };
  return load;
}

export async function createTinyCampaign(
  stack: Stack,
  label: string,
): Promise<{ campaignId: string; sessionId: string }> {
  const campaignId = uniqueCampaignId(label);
  await stack.client.createCampaign({ ...tinyWorld, campaignId });
  const { sessionId } = await stack.client.startSession(campaignId, [...PLAYERS]);
  return { campaignId, sessionId };
}

export interface Exactness {
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
  readonly overlappingFlushes: number;
  readonly verified: boolean;
}

/**
 * After the session ended (everything flushed): the archive must hold every acknowledged event exactly
 * once and nothing else, each player's gold must be its start plus its acknowledged +1s, no two
 * committed flushes may cover the same seq (the fence held), and Postgres must equal the fold of the log.
 */
export async function checkExactlyOnce(stack: Stack, campaignId: string, load: Load): Promise<Exactness> {
  const acked = [...load.acked.values()].flat().sort((a, b) => a - b);
  const archived = (
    await stack.db.db
      .selectFrom('events')
      .select('seq')
      .where('campaign_id', '=', campaignId)
      .orderBy('seq')
      .execute()
  ).map((row) => Number(row.seq));
  const archivedSet = new Set(archived);
  const ackedSet = new Set(acked);
  const lost = acked.filter((seq) => !archivedSet.has(seq)).length;
  const duplicated = archived.length - archivedSet.size + archived.filter((seq) => !ackedSet.has(seq)).length;
  for (const player of PLAYERS) {
    const row = await stack.db.db
      .selectFrom('entities')
      .select(sql<number>`(state->>'gold')::int`.as('gold'))
      .where('campaign_id', '=', campaignId)
      .where('id', '=', player)
      .executeTakeFirstOrThrow();
    const start = (tinyWorld.entities.find((e) => e.id === player)?.state as { gold: number }).gold;
    expect(row.gold).toBe(start + (load.acked.get(player)?.length ?? 0));
  }
  const flushes = await stack.db.db
    .selectFrom('sync_log')
    .select(['from_seq', 'to_seq'])
    .where('campaign_id', '=', campaignId)
    .where('error', 'is', null)
    .orderBy('from_seq')
    .execute();
  let overlapping = 0;
  let covered = 0;
  for (const flush of flushes.filter((f) => Number(f.to_seq) >= Number(f.from_seq))) {
    if (Number(flush.from_seq) <= covered) overlapping += 1;
    covered = Math.max(covered, Number(flush.to_seq));
  }
  const report = await verifyCampaign(stack.db.db, campaignId, { registry: referenceRegistry });
  return {
    acknowledged: acked.length,
    lost,
    duplicated,
    overlappingFlushes: overlapping,
    verified: report.ok,
  };
}

export function p99(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
}
