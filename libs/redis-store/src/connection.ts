import { Redis } from 'ioredis';
import { ServiceUnreachableError } from '@lorekeeper/config';

export type { Redis };

export interface RedisOptions {
  /** Batch the commands of one event-loop turn into one write (for servers with many requests in flight). */
  readonly autoPipelining?: boolean;
}

/**
 * A Redis client that fails a command quickly while Redis is away (so requests answer UNAVAILABLE
 * instead of hanging) and keeps reconnecting in the background.
 */
export function createRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    lazyConnect: true,
    // Commands issued in one event-loop turn leave in one write: many concurrent requests cost a
    // syscall together instead of one each (ioredis never auto-pipelines MULTI or blocking reads).
    enableAutoPipelining: options.autoPipelining ?? false,
    connectTimeout: 2_000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  });
}

/** Connect and ping; a Redis that does not answer becomes a ServiceUnreachableError naming it. */
export async function connectRedis(url: string, options: RedisOptions = {}): Promise<Redis> {
  const redis = createRedis(url, options);
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (cause) {
    redis.disconnect();
    throw new ServiceUnreachableError('Redis', url, cause);
  }
}

/** True when Redis answers a PING (for readiness checks). */
export async function ping(redis: Redis): Promise<boolean> {
  try {
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  }
}
