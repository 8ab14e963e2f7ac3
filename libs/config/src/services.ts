/** The three services every process needs, and how a user brings each one up. */
export type ServiceName = 'PostgreSQL' | 'Redis' | 'NATS';

const HOW_TO_START: Record<ServiceName, { env: string; compose: string; local: string }> = {
  PostgreSQL: {
    env: 'DATABASE_URL',
    compose: 'docker compose up -d postgres',
    local: 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  },
  Redis: {
    env: 'REDIS_URL',
    compose: 'docker compose up -d redis',
    local: 'redis-server --daemonize yes --port 6379',
  },
  NATS: {
    env: 'NATS_URL',
    compose: 'docker compose up -d nats',
    local: 'nats-server -js -p 4222 &',
  },
};

/** Raised at startup when a service does not answer; the message tells the user what to do. */
export class ServiceUnreachableError extends Error {
  override readonly name = 'ServiceUnreachableError';

  constructor(
    readonly service: ServiceName,
    readonly url: string,
    cause: unknown,
  ) {
    super(unreachableMessage(service, url, cause), { cause });
  }
}

/** "cannot reach Redis at redis://127.0.0.1:6379 (ECONNREFUSED). Start it with ..." */
export function unreachableMessage(service: ServiceName, url: string, cause: unknown): string {
  const how = HOW_TO_START[service];
  const reason =
    cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
  return (
    `cannot reach ${service} at ${redact(url)} (${reason}). ` +
    `Start it with \`${how.compose}\` (from the repository root) or locally with \`${how.local}\`, ` +
    `or point ${how.env} at a running instance.`
  );
}

/** A URL with its password replaced, safe for logs. */
export function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable url>';
  }
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now
  '08000',
  '08001',
  '08003',
  '08006',
]);

/** True for errors that mean Redis or Postgres cannot be reached right now (the caller may retry). */
export function isUnavailable(error: unknown): boolean {
  // By shape, not `instanceof Error`: errors from Node's own network code fail that check across
  // realms (jest's VM), and a store error is recognised by its code or message anyway.
  if (typeof error !== 'object' || error === null) return false;
  const { code, name, message } = error as { code?: unknown; name?: unknown; message?: unknown };
  if (typeof code === 'string' && CONNECTION_CODES.has(code)) return true;
  if (name === 'MaxRetriesPerRequestError') return true;
  if (typeof message !== 'string') return false;
  return /connection is closed|connection terminated|stream isn't writeable|timeout exceeded when trying to connect|connect ECONNREFUSED|not queryable|LOADING/i.test(
    message,
  );
}
