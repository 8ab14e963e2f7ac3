import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { Requests } from '@lorekeeper/client';
import type { Kysely } from 'kysely';
import type { Database } from '@lorekeeper/pg-store';
import { createDatabase, dropDatabase, ensureDatabaseExists, migrateToLatest } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, loadFunctions } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceName, ServiceProcess } from '@lorekeeper/testing';
import {
  dieWithParent,
  spawnService,
  startPrivateNats,
  startPrivateRedis,
  uniqueDatabaseUrl,
} from '@lorekeeper/testing';

/**
 * Everything one capacity run talks to, all of it its own: a fresh database, and a private Redis and
 * NATS. The private Redis (same binary and persistence settings as the shared one: no AOF, no RDB)
 * is what makes `INFO memory` deltas mean something while other people use the shared Redis, and it
 * keeps their workers from seeing this run's campaigns.
 */
export interface Stack {
  readonly databaseUrl: string;
  readonly db: Kysely<Database>;
  readonly redis: Redis;
  readonly redisServer: ServerProcess;
  readonly natsServer: ServerProcess;
  readonly nats: NatsConnection;
  /** Start a service on this stack; `env` adds to (or overrides) its settings. */
  spawn(name: ServiceName, env?: Record<string, string>): Promise<ServiceProcess>;
  /**
   * Start the persistence worker under `node --cpu-prof` (which NODE_OPTIONS does not allow); the
   * profile is written into `dir` when it exits. Resolves with a function that stops it gracefully.
   */
  spawnProfiledWorker(dir: string): Promise<() => Promise<void>>;
  /** Stop every service started, the servers, and drop the database. */
  close(): Promise<void>;
}

const REPO_ROOT = join(__dirname, '..', '..', '..');

export async function startStack(): Promise<Stack> {
  const databaseUrl = uniqueDatabaseUrl('bench_capacity');
  await ensureDatabaseExists(databaseUrl);
  const db = createDatabase(databaseUrl, { maxConnections: 4 });
  const migrated = await migrateToLatest(db);
  if (migrated.error) throw migrated.error;
  const redisServer = await startPrivateRedis();
  const redis = await connectRedis(redisServer.url);
  await loadFunctions(redis);
  const natsServer = await startPrivateNats();
  const nats = await connect({ servers: natsServer.url, noAsyncTraces: true });
  // Every process started here, stopped by close() even when a part throws half-way.
  const running = new Set<() => Promise<unknown>>();
  return {
    databaseUrl,
    db,
    redis,
    redisServer,
    natsServer,
    nats,
    spawn: async (name, env = {}) => {
      const service = await spawnService(name, {
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisServer.url,
        NATS_URL: natsServer.url,
        ...env,
      });
      running.add(service.stop);
      void service.exited.then(() => running.delete(service.stop));
      return service;
    },
    spawnProfiledWorker: async (dir) => {
      const child = dieWithParent(
        spawn(
          process.execPath,
          ['--cpu-prof', '--cpu-prof-dir', dir, join(REPO_ROOT, 'apps/persistence-worker/dist/main.js')],
          {
            env: {
              ...process.env,
              DATABASE_URL: databaseUrl,
              REDIS_URL: redisServer.url,
              NATS_URL: natsServer.url,
              WORKER_HTTP_PORT: '0',
              LOG_LEVEL: 'info',
            },
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        ),
      );
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await new Promise<void>((resolve, reject) => {
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('persistence worker ready')) resolve();
        });
        void exited.then(() =>
          reject(new Error(`the profiled worker exited before it was ready:\n${output}`)),
        );
      });
      const stop = async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        await exited;
      };
      running.add(stop);
      void exited.then(() => running.delete(stop));
      return stop;
    },
    close: async () => {
      for (const stop of [...running]) await stop();
      await nats.close().catch(() => undefined);
      await natsServer.stop();
      redis.disconnect();
      await redisServer.stop();
      await db.destroy();
      await dropDatabase(databaseUrl);
    },
  };
}

/** One request over NATS, as a game server sends it; the reply's JSON body. */
// Replies are arbitrary JSON; the bench reads the fields it reports.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function ask(nats: NatsConnection, subject: string, body: unknown): Promise<any> {
  const reply = await Requests.of(nats).request(subject, JSON.stringify(body), 60_000);
  const decoded = JSON.parse(reply.string());
  if (decoded?.error) throw new Error(`${subject}: ${JSON.stringify(decoded.error)}`);
  return decoded;
}
