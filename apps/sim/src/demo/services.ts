import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '@lorekeeper/config';
import { ServiceUnreachableError, isUnavailable, withMallocTunables } from '@lorekeeper/config';
import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase, ensureDatabaseExists, migrateToLatest } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { WORKERS_KEY, connectRedis } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import { connect } from 'nats';

export interface Stores {
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  readonly nats: NatsConnection;
}

/** Say something to the person running the demo (stderr, so --json stays clean). */
export type Say = (line: string) => void;

/**
 * Reach Redis, Postgres and NATS. When some do not answer and a Docker engine is present, start them
 * with `docker compose up -d --wait` (saying so) and try again; otherwise throw the first
 * ServiceUnreachableError, whose message says how to start that service.
 */
export async function reachStores(config: Config, say: Say): Promise<Stores> {
  const first = await tryStores(config);
  if (first.ok) return first.stores;
  if (!dockerEngineAnswers()) throw first.errors[0];
  say(
    `${first.errors.map((e) => e.service).join(', ')} not answering; starting them with docker compose up -d`,
  );
  const compose = spawnSync('docker', ['compose', 'up', '-d', '--wait', 'redis', 'postgres', 'nats'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (compose.status !== 0) throw first.errors[0];
  const second = await tryStores(config);
  if (second.ok) return second.stores;
  throw second.errors[0];
}

type Attempt =
  | { ok: true; stores: Stores }
  | { ok: false; errors: [ServiceUnreachableError, ...ServiceUnreachableError[]] };

async function tryStores(config: Config): Promise<Attempt> {
  const [redis, db, nats] = await Promise.allSettled([
    connectRedis(config.redisUrl),
    openDatabase(config.databaseUrl),
    connect({ servers: config.natsUrl, name: 'lorekeeper-demo', timeout: 2_000 }).catch((cause: unknown) => {
      throw new ServiceUnreachableError('NATS', config.natsUrl, cause);
    }),
  ]);
  if (redis.status === 'fulfilled' && db.status === 'fulfilled' && nats.status === 'fulfilled')
    return { ok: true, stores: { redis: redis.value, db: db.value, nats: nats.value } };
  if (redis.status === 'fulfilled') redis.value.disconnect();
  if (db.status === 'fulfilled') await db.value.destroy();
  if (nats.status === 'fulfilled') await nats.value.close();
  const errors = [redis, db, nats]
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  // Anything else (a bad URL, a refused password) is not fixed by starting containers.
  const other = errors.find((e) => !(e instanceof ServiceUnreachableError));
  if (other !== undefined)
    throw other instanceof Error ? other : new Error('could not connect', { cause: other });
  const unreachable = errors as [ServiceUnreachableError, ...ServiceUnreachableError[]];
  return { ok: false, errors: unreachable };
}

/** Create the database if it is missing and apply pending migrations; returns the connected pool. */
async function openDatabase(url: string): Promise<Kysely<Database>> {
  try {
    await ensureDatabaseExists(url);
  } catch (cause) {
    if (cause instanceof ServiceUnreachableError) throw cause;
    if (isUnavailable(cause)) throw new ServiceUnreachableError('PostgreSQL', url, cause);
    throw cause;
  }
  const db = await connectDatabase(url, { maxConnections: 4 });
  const report = await migrateToLatest(db);
  if (report.error) {
    await db.destroy();
    throw new Error(`migrating the database failed: ${report.error.message}`);
  }
  return db;
}

function dockerEngineAnswers(): boolean {
  const info = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], {
    stdio: 'ignore',
    timeout: 5_000,
  });
  return info.status === 0;
}

/** A service the demo started itself, and stops at the end. */
export interface StartedService {
  readonly name: string;
  readonly logFile: string;
  stop(): Promise<void>;
}

/**
 * Start the session service and the persistence worker unless they already run against these stores:
 * a session service answers a probe request on NATS; a worker has a fresh heartbeat in Redis.
 */
export async function ensureServices(
  stores: Stores,
  config: Config,
  options: { readonly logDir: string; readonly env: Record<string, string> },
  say: Say,
): Promise<StartedService[]> {
  const started: StartedService[] = [];
  if (await sessionServiceAnswers(stores.nats)) say('session service: already running');
  else {
    const service = startService('session-service', options);
    started.push(service.started);
    await waitFor(() => sessionServiceAnswers(stores.nats), service, 'answer on NATS');
    say(`session service: started (logs in ${service.started.logFile})`);
  }
  if ((await liveWorkers(stores.redis, config.worker.leaseMs)) > 0)
    say('persistence worker: already running');
  else {
    const worker = startService('persistence-worker', options);
    started.push(worker.started);
    await waitFor(
      async () => (await liveWorkers(stores.redis, config.worker.leaseMs)) > 0,
      worker,
      'heartbeat',
    );
    say(`persistence worker: started (logs in ${worker.started.logFile})`);
  }
  return started;
}

/** Any reply (an error for the probe campaign is a reply) means a session service is subscribed. */
async function sessionServiceAnswers(nats: NatsConnection): Promise<boolean> {
  try {
    await nats.request('campaign.lorekeeper-demo-probe.entity.get', '{"entityId":"world"}', {
      timeout: 1_000,
    });
    return true;
  } catch {
    return false;
  }
}

async function liveWorkers(redis: Redis, leaseMs: number): Promise<number> {
  return redis.zcount(WORKERS_KEY, Date.now() - leaseMs, '+inf');
}

interface Spawned {
  readonly child: ChildProcess;
  readonly started: StartedService;
}

function startService(
  name: 'session-service' | 'persistence-worker',
  options: { readonly logDir: string; readonly env: Record<string, string> },
): Spawned {
  // Resolved through the workspace package, so the demo runs the services' built entry points.
  const main = require.resolve(`@lorekeeper/${name}`);
  mkdirSync(options.logDir, { recursive: true });
  const logFile = path.join(options.logDir, `${name}.log`);
  const log = createWriteStream(logFile);
  const child = spawn(process.execPath, [main], {
    env: withMallocTunables({ ...process.env, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    started: {
      name,
      logFile,
      async stop() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
        log.end();
      },
    },
  };
}

async function waitFor(ready: () => Promise<boolean>, spawned: Spawned, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (spawned.child.exitCode !== null) {
      throw new Error(
        `${spawned.started.name} exited with code ${spawned.child.exitCode} while starting; ` +
          `see ${spawned.started.logFile}`,
      );
    }
    if (await ready()) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await spawned.started.stop();
  throw new Error(`${spawned.started.name} did not ${what} within 30 s; see ${spawned.started.logFile}`);
}
