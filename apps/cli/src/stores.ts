import type { Config } from '@lorekeeper/config';
import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';

export interface CliStores {
  readonly db: Kysely<Database>;
  /** Present when the command asked for Redis. */
  readonly redis?: Redis;
}

/**
 * Connect to Postgres (and Redis when `withRedis`), run `work`, and always close, so the CLI exits. An
 * unreachable store raises ServiceUnreachableError (exit 3, with how to start it).
 */
export async function withStores<T>(
  config: Config,
  withRedis: boolean,
  work: (stores: CliStores) => Promise<T>,
): Promise<T> {
  const db = await connectDatabase(config.databaseUrl, { maxConnections: 2 });
  let redis: Redis | undefined;
  try {
    if (withRedis) redis = await connectRedis(config.redisUrl);
    return await work(redis ? { db, redis } : { db });
  } finally {
    redis?.disconnect();
    await db.destroy();
  }
}
