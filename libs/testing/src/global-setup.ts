import { ensureTestServices } from './services';

/**
 * Jest global setup for integration and e2e tests: find (or start) the services once and hand their
 * URLs to every worker through the environment.
 */
export default async function globalSetup(): Promise<void> {
  const urls = await ensureTestServices();
  process.env['DATABASE_URL'] = urls.databaseUrl;
  process.env['REDIS_URL'] = urls.redisUrl;
  process.env['NATS_URL'] = urls.natsUrl;
}
