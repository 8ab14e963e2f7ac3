import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { LorekeeperClient } from '@lorekeeper/client';
import type { Entity, WorldDocument } from '@lorekeeper/domain';
import { WORLD_FORMAT } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import { createRedis } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  freePort,
  generateWorld,
  spawnService,
  startPrivateNats,
  uniqueCampaignId,
  waitUntil,
} from '@lorekeeper/testing';

/**
 * A redis-server of a fault test's own, on a fixed loopback port and data directory, so the test can
 * `kill -9` it and start it again on the same port (the services keep their REDIS_URL) from the same
 * directory, an older copy of it, or an empty one.
 */
export interface RestartableRedis {
  readonly url: string;
  readonly port: number;
  /** The directory the next `start()` uses (change it to start from a copy). */
  dir: string;
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kill it and remove every directory it was given. */
  stop(): Promise<void>;
}

/** Everything answers PONG once the AOF is loaded (LOADING before). */
async function redisPongs(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
  });
}

export async function startRestartableRedis(args: readonly string[]): Promise<RestartableRedis> {
  const port = await freePort();
  const dirs = [mkdtempSync(join(tmpdir(), 'lk-redis-'))];
  let child: ChildProcess | undefined;
  const handle: RestartableRedis = {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: dirs[0] as string,
    async kill() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        running.once('exit', () => resolve());
        running.kill('SIGKILL');
      });
    },
    async start() {
      if (!dirs.includes(handle.dir)) dirs.push(handle.dir);
      const base = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', handle.dir];
      child = spawn('redis-server', [...base, ...args], { stdio: 'ignore' });
      await waitUntil(() => redisPongs(port), 30_000, `redis-server on port ${port}`);
    },
    async stop() {
      await handle.kill();
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    },
  };
  await handle.start();
  return handle;
}

/** The AOF settings of DESIGN.md's failure model. */
export const AOF_EVERYSEC = ['--appendonly', 'yes', '--appendfsync', 'everysec'];

/** The system under test as real processes on private Redis, NATS and a test database. */
export interface FaultRig {
  readonly db: TestDatabase;
  readonly redisServer: RestartableRedis;
  readonly natsServer: ServerProcess;
  /** A reconnecting Redis client of the test's own, for looking at the stream and keys. */
  readonly redis: Redis;
  readonly nats: NatsConnection;
  readonly env: Record<string, string>;
  sessionService: ServiceProcess;
  worker: ServiceProcess;
  /** Start another copy of a service (after killing one); close() ends it too. */
  spawn(name: 'session-service' | 'persistence-worker'): Promise<ServiceProcess>;
  /** A game server's client with generous idempotent retries. */
  client(options?: ConstructorParameters<typeof LorekeeperClient>[1]): LorekeeperClient;
  /** Every process, server and directory; safe to call when setup failed half-way. */
  close(): Promise<void>;
}

export interface RigOptions {
  readonly label: string;
  readonly redisArgs: readonly string[];
  /** Extra environment for both services (AUTOSAVE_INTERVAL_MS, LEASE_MS, ...). */
  readonly settings?: Record<string, string>;
}

export async function startFaultRig(options: RigOptions): Promise<FaultRig> {
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => undefined);
    cleanups.length = 0;
  };
  try {
    const db = await createTestDatabase(options.label);
    cleanups.push(() => db.destroy());
    const redisServer = await startRestartableRedis(options.redisArgs);
    cleanups.push(() => redisServer.stop());
    const natsServer = await startPrivateNats();
    cleanups.push(() => natsServer.stop());
    const env = {
      ...options.settings,
      DATABASE_URL: db.url,
      REDIS_URL: redisServer.url,
      NATS_URL: natsServer.url,
    };
    const processes: ServiceProcess[] = [];
    cleanups.push(async () => {
      for (const child of processes) {
        if (child.process.exitCode === null && child.process.signalCode === null)
          child.process.kill('SIGKILL');
        await child.exited;
      }
    });
    const spawnTracked = async (name: 'session-service' | 'persistence-worker') => {
      const child = await spawnService(name, env);
      processes.push(child);
      return child;
    };
    const redis = createRedis(redisServer.url);
    await redis.connect();
    cleanups.push(async () => redis.disconnect());
    const nats = await connect({ servers: natsServer.url });
    cleanups.push(() => nats.close());
    const rig: FaultRig = {
      db,
      redisServer,
      natsServer,
      redis,
      nats,
      env,
      sessionService: await spawnTracked('session-service'),
      worker: await spawnTracked('persistence-worker'),
      spawn: spawnTracked,
      client: (clientOptions) =>
        new LorekeeperClient(nats, { timeoutMs: 5_000, appendAttempts: 20, ...clientOptions }),
      close: cleanup,
    };
    return rig;
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * A world for the load loops: each loop drives one player of its own and completes quests of its own
 * (all quests start available, so `quest.started` + `quest.completed` always apply).
 */
export function faultWorld(label: string, loops: number, questsPerLoop: number): WorldDocument {
  const campaignId = uniqueCampaignId(label);
  const world = generateWorld({
    campaignId,
    regions: 4,
    players: loops,
    npcs: 4,
    items: 8,
    quests: loops * questsPerLoop,
    seed: 7,
  });
  const entities: Entity[] = world.entities.map((entity) =>
    entity.kind === 'quest'
      ? { ...entity, state: { ...(entity.state as object), status: 'available', playerId: null, step: 0 } }
      : entity,
  );
  return { format: WORLD_FORMAT, campaignId, name: world.name, seq: 0, entities };
}
