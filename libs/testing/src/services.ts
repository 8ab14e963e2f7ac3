import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';

/** Where the tests find Redis, Postgres and NATS. */
export interface ServiceUrls {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly natsUrl: string;
}

const DEFAULTS: ServiceUrls = {
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: 'redis://127.0.0.1:6379',
  natsUrl: 'nats://127.0.0.1:4222',
};

/** The URLs from DATABASE_URL, REDIS_URL and NATS_URL, or the standard local ports. */
export function serviceUrls(env: Readonly<Record<string, string | undefined>> = process.env): ServiceUrls {
  return {
    databaseUrl: env['DATABASE_URL'] ?? DEFAULTS.databaseUrl,
    redisUrl: env['REDIS_URL'] ?? DEFAULTS.redisUrl,
    natsUrl: env['NATS_URL'] ?? DEFAULTS.natsUrl,
  };
}

/** True when something accepts TCP connections at the URL's host and port. */
export function answers(url: string, timeoutMs = 1_000): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => done(true));
  });
}

function dockerAvailable(): boolean {
  try {
    execFileSync('docker', ['info'], { stdio: 'ignore', timeout: 5_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * Make sure the tests have all three services: the env URLs (or the local defaults) when they answer;
 * otherwise, if a Docker engine is present, containers started with testcontainers; otherwise one
 * clear error naming what is missing and the env vars to set.
 */
export async function ensureTestServices(): Promise<ServiceUrls> {
  const urls = serviceUrls();
  const checks = await Promise.all([
    answers(urls.databaseUrl).then(
      (ok) => ({ name: 'PostgreSQL (DATABASE_URL)', key: 'databaseUrl', ok }) as const,
    ),
    answers(urls.redisUrl).then((ok) => ({ name: 'Redis (REDIS_URL)', key: 'redisUrl', ok }) as const),
    answers(urls.natsUrl).then((ok) => ({ name: 'NATS (NATS_URL)', key: 'natsUrl', ok }) as const),
  ]);
  const missing = checks.filter((check) => !check.ok);
  if (missing.length === 0) return urls;
  if (!dockerAvailable()) {
    throw new Error(
      `the tests need ${missing.map((m) => m.name).join(', ')}, and nothing answers at ` +
        `${missing.map((m) => urls[m.key]).join(', ')}. Set DATABASE_URL, REDIS_URL and NATS_URL to running ` +
        'services, start them with `docker compose up -d`, or run `bash .ci/run`, which starts local ones.',
    );
  }
  const started = await startContainers(missing.map((m) => m.key));
  return { ...urls, ...started };
}

async function startContainers(keys: readonly (keyof ServiceUrls)[]): Promise<Partial<ServiceUrls>> {
  // Loaded only when needed: most runs never touch Docker.
  const { GenericContainer, Wait } = await import('testcontainers');
  const urls: { -readonly [K in keyof ServiceUrls]?: string } = {};
  for (const key of keys) {
    if (key === 'databaseUrl') {
      const pg = await new GenericContainer('postgres:15-alpine')
        .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust' })
        .withExposedPorts(5432)
        .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/, 2))
        .start();
      urls.databaseUrl = `postgres://postgres@${pg.getHost()}:${pg.getMappedPort(5432)}/postgres`;
    } else if (key === 'redisUrl') {
      const redis = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
      urls.redisUrl = `redis://${redis.getHost()}:${redis.getMappedPort(6379)}`;
    } else {
      const nats = await new GenericContainer('nats:2.10-alpine')
        .withCommand(['-js'])
        .withExposedPorts(4222)
        .start();
      urls.natsUrl = `nats://${nats.getHost()}:${nats.getMappedPort(4222)}`;
    }
  }
  return urls;
}
