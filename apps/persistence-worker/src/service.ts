import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { NatsConnection, Subscription } from 'nats';
import type { Logger } from 'pino';
import type { Config } from '@lorekeeper/config';
import { referenceRegistry } from '@lorekeeper/domain';
import { connectNats, portOf, startOpsServer } from '@lorekeeper/ops';
import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase } from '@lorekeeper/pg-store';
import type { FlushRequest } from '@lorekeeper/protocol';
import { FLUSH_REQUEST_SUBSCRIPTION } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, loadFunctions, ping } from '@lorekeeper/redis-store';
import type { WorkerDeps } from './deps';
import { createWorkerMetrics } from './ops/metrics';
import { Worker } from './worker';

export interface RunningWorker {
  readonly worker: Worker;
  readonly deps: WorkerDeps;
  readonly httpPort: number;
  /** Graceful: stop reading, flush every owned campaign, release the leases, close connections. */
  close(): Promise<void>;
}

/** A startup problem the operator can fix; main prints the message and exits non-zero. */
export class WorkerStartupError extends Error {
  override readonly name = 'WorkerStartupError';
}

/** Connect, start the consumer loop, listen for flush requests and serve the ops endpoints. */
export async function startPersistenceWorker(config: Config, logger: Logger): Promise<RunningWorker> {
  const results = await Promise.allSettled([
    connectRedis(config.redisUrl),
    connectDatabase(config.databaseUrl),
    connectNats(config.natsUrl, 'lorekeeper-persistence-worker'),
  ]);
  const [redis, db, nats] = results;
  if (redis.status === 'rejected' || db.status === 'rejected' || nats.status === 'rejected') {
    if (redis.status === 'fulfilled') redis.value.disconnect();
    if (db.status === 'fulfilled') await db.value.destroy();
    if (nats.status === 'fulfilled') await nats.value.close();
    const reasons = results.flatMap((r) =>
      r.status === 'rejected' ? [String((r.reason as Error).message)] : [],
    );
    throw new WorkerStartupError(reasons.join('\n'));
  }
  const connections = { redis: redis.value, db: db.value, nats: nats.value };
  try {
    await sql`select 1 from campaigns limit 1`.execute(connections.db);
  } catch {
    await closeConnections(connections);
    throw new WorkerStartupError('the database has no Lorekeeper schema: run `npx lorekeeper migrate` first');
  }
  await loadFunctions(connections.redis);

  const metrics = createWorkerMetrics();
  const workerId = `worker-${randomUUID()}`;
  const deps: WorkerDeps = { config, registry: referenceRegistry, ...connections, metrics, logger, workerId };
  const worker = new Worker(deps);
  const flushRequests = listenForFlushRequests(connections.nats, worker, logger);
  worker.start();
  let ops: Server;
  try {
    ops = await startOpsServer(config.worker.httpPort, metrics.registry, async () => ({
      redis: await ping(connections.redis),
      postgres: await sql`select 1`.execute(connections.db).then(
        () => true,
        () => false,
      ),
      nats: !connections.nats.isClosed(),
    }));
  } catch (error) {
    await worker.stop();
    await closeConnections(connections);
    throw error;
  }
  logger.info({ workerId, httpPort: portOf(ops) }, 'persistence worker ready');
  return {
    worker,
    deps,
    httpPort: portOf(ops),
    close: async () => {
      flushRequests.unsubscribe();
      await worker.stop();
      ops.close();
      await closeConnections(connections);
    },
  };
}

function listenForFlushRequests(nats: NatsConnection, worker: Worker, logger: Logger): Subscription {
  return nats.subscribe(FLUSH_REQUEST_SUBSCRIPTION, {
    callback: (error, message) => {
      if (error) return logger.warn({ err: error }, 'flush request subscription error');
      try {
        const request = JSON.parse(new TextDecoder().decode(message.data)) as FlushRequest;
        worker.requestFlush(request.campaignId, request.trigger);
      } catch {
        logger.warn({ subject: message.subject }, 'ignored a malformed flush request');
      }
    },
  });
}

async function closeConnections(c: {
  redis: Redis;
  db: Kysely<Database>;
  nats: NatsConnection;
}): Promise<void> {
  const redis = c.redis.status === 'ready' ? c.redis.quit() : Promise.resolve(c.redis.disconnect());
  await Promise.allSettled([c.nats.drain(), redis, c.db.destroy()]);
}
