import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Database } from '@lorekeeper/pg-store';
import { connectDatabase, dropDatabase } from '@lorekeeper/pg-store';
import type { ServerProcess } from '@lorekeeper/testing';
import { freePort, startPrivateNats, startPrivateRedis, uniqueDatabaseUrl } from '@lorekeeper/testing';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { DemoSummary } from './demo/demo';

const run = promisify(execFile);
const root = path.resolve(__dirname, '../../..');

// The demo's services and game servers get their own NATS and Redis, and a database that does not
// exist yet: exactly what a newcomer's machine looks like, with nothing else's workers in the way.
let nats: ServerProcess;
let redis: ServerProcess;
let databaseUrl: string;
let db: Kysely<Database> | undefined;

beforeAll(async () => {
  [nats, redis] = await Promise.all([startPrivateNats(), startPrivateRedis()]);
  databaseUrl = uniqueDatabaseUrl('demo');
});
afterAll(async () => {
  await db?.destroy();
  await dropDatabase(databaseUrl);
  await Promise.all([nats.stop(), redis.stop()]);
});

describe('npm run demo', () => {
  it('plays on a fresh database, exits 0, and its summary matches what the database holds', async () => {
    const { stdout, stderr } = await run(
      'npm',
      ['run', 'demo', '--silent', '--', '--duration', '4', '--rate', '150', '--seed', '5', '--json'],
      {
        cwd: root,
        env: { ...process.env, DATABASE_URL: databaseUrl, NATS_URL: nats.url, REDIS_URL: redis.url },
        timeout: 150_000,
      },
    );
    const summary = JSON.parse(stdout) as DemoSummary;
    expect(stderr).toContain('session service: started');
    expect(stderr).toContain('persistence worker: started');
    expect(summary).toMatchObject({ ok: true, servicesStarted: ['session-service', 'persistence-worker'] });
    expect(summary.verification).toMatchObject({
      ok: true,
      archiveMatchesAcknowledged: true,
      mismatches: [],
    });
    expect(summary.events).toBeGreaterThan(200);
    const byType = Object.values(summary.eventsByType);
    expect(byType.reduce((sum, t) => sum + t.count, 0)).toBe(summary.events);
    expect(summary.persistentEvents + summary.transientEvents).toBe(summary.events);
    expect(summary.transientEvents).toBeGreaterThan(0);

    db = await connectDatabase(databaseUrl, { maxConnections: 1 });
    const id = summary.campaignId;
    const campaign = await db
      .selectFrom('campaigns')
      .select('checkpoint_seq')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    expect(campaign.checkpoint_seq).toBe(summary.lastSeq);
    expect(summary.postgres.checkpointSeq).toBe(summary.lastSeq);
    const archived = await db
      .selectFrom('events')
      .select([sql<string>`count(*)`.as('count'), sql<string>`count(distinct seq)`.as('distinct')])
      .where('campaign_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(archived.count)).toBe(summary.persistentEvents);
    expect(Number(archived.distinct)).toBe(summary.persistentEvents);
    expect(summary.postgres.eventsArchived).toBe(summary.persistentEvents);
    const flushes = await db
      .selectFrom('sync_log')
      .select([
        sql<string>`count(*)`.as('count'),
        sql<string>`coalesce(sum(entities_written), 0)`.as('written'),
      ])
      .where('campaign_id', '=', id)
      .where('error', 'is', null)
      .executeTakeFirstOrThrow();
    expect(Number(flushes.count)).toBe(summary.postgres.flushes);
    expect(Number(flushes.written)).toBe(summary.postgres.entitiesWritten);
    expect(summary.postgres.flushes).toBeGreaterThan(0);
    const entities = await db
      .selectFrom('entities')
      .select(sql<string>`count(*)`.as('count'))
      .where('campaign_id', '=', id)
      .executeTakeFirstOrThrow();
    expect(Number(entities.count)).toBe(summary.entities);
  }, 180_000);

  it('names the service it cannot reach, says how to start it, and exits 3', async () => {
    const closed = await freePort();
    const result = await run(
      process.execPath,
      [path.join(root, 'apps/sim/dist/main.js'), '--duration', '1'],
      {
        cwd: root,
        // No docker on PATH, so the demo cannot fall back to docker compose.
        env: { ...process.env, PATH: path.dirname(process.execPath), NATS_URL: `nats://127.0.0.1:${closed}` },
      },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(3);
    expect(result.stderr).toContain(`cannot reach NATS at nats://127.0.0.1:${closed}`);
    expect(result.stderr).toMatch(/Start it with/);
  });

  it('refuses bad options with exit code 2 and a usage hint', async () => {
    const result = await run(process.execPath, [
      path.join(root, 'apps/sim/dist/main.js'),
      '--players',
      'lots',
    ]).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected a whole number of at least 1, got "lots"');
  });
});
