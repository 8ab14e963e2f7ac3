import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Config } from '@lorekeeper/config';
import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, loadFunctions, ping } from '@lorekeeper/redis-store';
import { connectNats } from '@lorekeeper/ops';

export interface Connections {
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  readonly nats: NatsConnection;
}

/** A startup problem the operator can fix; main prints the message and exits non-zero. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}

/**
 * Connect to all three services, reporting every one that does not answer (with how to start it),
 * then check the schema is migrated and load the Redis Functions. Both services start this way.
 */
export async function connectAll(
  config: Config,
  name: string,
  options: { readonly autoPipelining?: boolean } = {},
): Promise<Connections> {
  const [redis, db, nats] = await Promise.allSettled([
    connectRedis(config.redisUrl, options),
    connectDatabase(config.databaseUrl),
    connectNats(config.natsUrl, name, config.natsAuth),
  ]);
  const failures = [redis, db, nats].filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failures.length > 0) {
    if (redis.status === 'fulfilled') redis.value.disconnect();
    if (db.status === 'fulfilled') await db.value.destroy();
    if (nats.status === 'fulfilled') await nats.value.close();
    throw new StartupError(
      failures.map((f) => (f.reason instanceof Error ? f.reason.message : String(f.reason))).join('\n'),
    );
  }
  const connections = {
    redis: (redis as PromiseFulfilledResult<Redis>).value,
    db: (db as PromiseFulfilledResult<Kysely<Database>>).value,
    nats: (nats as PromiseFulfilledResult<NatsConnection>).value,
  };
  try {
    await sql`select 1 from campaigns limit 1`.execute(connections.db);
  } catch {
    await closeAll(connections);
    throw new StartupError(
      'the database has no Lorekeeper schema: run `npx lorekeeper migrate` (or `npm run migrate`) first',
    );
  }
  await loadFunctions(connections.redis);
  return connections;
}

export async function closeAll(connections: Connections): Promise<void> {
  // quit() waits for Redis to answer; a Redis that is gone gets a plain disconnect instead.
  const redis =
    connections.redis.status === 'ready'
      ? connections.redis.quit()
      : Promise.resolve(connections.redis.disconnect());
  await Promise.allSettled([connections.nats.drain(), redis, connections.db.destroy()]);
}

/** The readiness of each store, for /health/ready. */
export async function storeReadiness(connections: Connections): Promise<Record<string, boolean>> {
  return {
    redis: await ping(connections.redis),
    postgres: await sql`select 1`.execute(connections.db).then(
      () => true,
      () => false,
    ),
    nats: !connections.nats.isClosed(),
  };
}
