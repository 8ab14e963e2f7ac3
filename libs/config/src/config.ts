import { z } from 'zod';
import type { NatsAuth } from './nats-auth';
import { natsAuthFrom } from './nats-auth';
import { redact } from './services';

/**
 * Every process reads its environment here, once, at boot (STYLE.md). Nothing else touches
 * `process.env`; the rest of the code gets a typed, frozen `Config`.
 */
export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly natsUrl: string;
  /** From NATS_USER/NATS_PASSWORD, or the user info of NATS_URL; undefined when NATS needs none. */
  readonly natsAuth: NatsAuth | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly sessionService: {
    /** HTTP port for /metrics and /health; 0 picks a free port. */
    readonly httpPort: number;
    readonly queueGroup: string;
    readonly maxEventsPerAppend: number;
    readonly maxEventBytes: number;
    /** How long an append holding a major event waits for Postgres before replying `durable: false`. */
    readonly durableWaitMs: number;
    /** Expiry of transient entities (combat, dialogue), refreshed by each of their events. */
    readonly transientTtlSeconds: number;
    readonly casRetries: number;
    /** Appends of one campaign validated and committed at once by one process (1: one at a time). */
    readonly appendConcurrency: number;
    /** Bytes of entity JSON a session-service process keeps parsed in memory across campaigns (0: none). */
    readonly liveCacheBytes: number;
  };
  readonly worker: {
    readonly httpPort: number;
    readonly autosaveIntervalMs: number;
    readonly backlogEvents: number;
    readonly backlogBytes: number;
    /** While the worker catches up a backlog (full reads of entries older than 5 s), the backlog bounds are this many times larger. */
    readonly catchUpBacklogFactor: number;
    readonly leaseMs: number;
    /** Entries kept in the stream behind the checkpoint for live debugging. */
    readonly streamKeep: number;
    /** Take a replay snapshot after a flush once this many events passed since the last (0: never). */
    readonly snapshotEveryEvents: number;
    /** Flushes older than this many days leave the sync log, each campaign's last committed one aside (0: kept). */
    readonly syncLogKeepDays: number;
    readonly poisonRetries: number;
    /**
     * Fault injection for crash tests only: the probability that the worker kills itself right after a
     * flush commits and before it acknowledges the entries (the window DESIGN.md's failure model names).
     */
    readonly crashAfterCommit: number;
    /** The CPU niceness the worker process lowers itself to at start (0: left as started). */
    readonly nice: number;
  };
}

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();
const url = (schemes: readonly string[]) =>
  z.string().refine((value) => schemes.some((scheme) => value.startsWith(`${scheme}://`)), {
    message: `must be a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`,
  });

const environment = z.object({
  DATABASE_URL: url(['postgres', 'postgresql']).default('postgres://postgres@127.0.0.1:5432/lorekeeper'),
  REDIS_URL: url(['redis', 'rediss']).default('redis://127.0.0.1:6379'),
  NATS_URL: url(['nats', 'tls']).default('nats://127.0.0.1:4222'),
  NATS_USER: z.string().min(1).optional(),
  NATS_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  SESSION_HTTP_PORT: port.default(9464),
  SESSION_QUEUE_GROUP: z.string().min(1).default('lorekeeper-session'),
  MAX_EVENTS_PER_APPEND: positive.default(10_000),
  MAX_EVENT_BYTES: positive.default(16 * 1024),
  DURABLE_WAIT_MS: positive.default(5_000),
  TRANSIENT_TTL_SECONDS: positive.default(900),
  CAS_RETRIES: positive.default(5),
  APPEND_CONCURRENCY: positive.default(128),
  LIVE_CACHE_MB: z.coerce.number().nonnegative().default(16),
  WORKER_HTTP_PORT: port.default(9465),
  AUTOSAVE_INTERVAL_MS: z.coerce.number().int().nonnegative().default(300_000),
  BACKLOG_EVENTS: positive.default(10_000),
  BACKLOG_BYTES: positive.default(8 * 1024 * 1024),
  CATCH_UP_BACKLOG_FACTOR: positive.default(4),
  LEASE_MS: positive.default(15_000),
  STREAM_KEEP: z.coerce.number().int().nonnegative().default(1_000),
  SNAPSHOT_EVERY_EVENTS: z.coerce.number().int().nonnegative().default(100_000),
  SYNC_LOG_KEEP_DAYS: z.coerce.number().nonnegative().default(7),
  POISON_RETRIES: positive.default(3),
  WORKER_CRASH_AFTER_COMMIT: z.coerce.number().min(0).max(1).default(0),
  WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
});

export class ConfigError extends Error {
  override readonly name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/** Parse the environment, reporting every bad key at once. Throws ConfigError. */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): Config {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const key = String(issue.path[0]);
        // A URL may carry a password: never echo it back.
        const value = key.endsWith('_URL')
          ? redact(env[key] ?? '')
          : key.endsWith('_PASSWORD')
            ? '***'
            : env[key];
        return `${issue.path.join('.')}=${JSON.stringify(value)}: ${issue.message}`;
      }),
    );
  }
  const e = parsed.data;
  if (e.NATS_PASSWORD !== undefined && e.NATS_USER === undefined) {
    throw new ConfigError(['NATS_PASSWORD is set without NATS_USER: set both, or neither']);
  }
  return deepFreeze({
    databaseUrl: e.DATABASE_URL,
    redisUrl: e.REDIS_URL,
    natsUrl: e.NATS_URL,
    natsAuth: natsAuthFrom(e.NATS_URL, e.NATS_USER, e.NATS_PASSWORD),
    logLevel: e.LOG_LEVEL,
    sessionService: {
      httpPort: e.SESSION_HTTP_PORT,
      queueGroup: e.SESSION_QUEUE_GROUP,
      maxEventsPerAppend: e.MAX_EVENTS_PER_APPEND,
      maxEventBytes: e.MAX_EVENT_BYTES,
      durableWaitMs: e.DURABLE_WAIT_MS,
      transientTtlSeconds: e.TRANSIENT_TTL_SECONDS,
      casRetries: e.CAS_RETRIES,
      appendConcurrency: e.APPEND_CONCURRENCY,
      liveCacheBytes: Math.round(e.LIVE_CACHE_MB * 1024 * 1024),
    },
    worker: {
      httpPort: e.WORKER_HTTP_PORT,
      autosaveIntervalMs: e.AUTOSAVE_INTERVAL_MS,
      backlogEvents: e.BACKLOG_EVENTS,
      backlogBytes: e.BACKLOG_BYTES,
      catchUpBacklogFactor: e.CATCH_UP_BACKLOG_FACTOR,
      leaseMs: e.LEASE_MS,
      streamKeep: e.STREAM_KEEP,
      snapshotEveryEvents: e.SNAPSHOT_EVERY_EVENTS,
      syncLogKeepDays: e.SYNC_LOG_KEEP_DAYS,
      poisonRetries: e.POISON_RETRIES,
      crashAfterCommit: e.WORKER_CRASH_AFTER_COMMIT,
      nice: e.WORKER_NICE,
    },
  });
}

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object') deepFreeze(child as object);
  }
  return Object.freeze(value);
}
