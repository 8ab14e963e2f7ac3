import pg from 'pg';
import { campaignKeys } from '@lorekeeper/redis-store';
import { reportFigures, waitUntil } from '@lorekeeper/testing';
import type { Stack } from '../test/stack';
import { checkExactlyOnce, createTinyCampaign, p99, startLoad, startStack } from '../test/stack';

// Slow and stuck parts (DESIGN.md, failure model): Postgres holding a lock, NATS restarted, a worker
// frozen for longer than its lease. Each runs real processes under load and must end with every
// acknowledged event applied exactly once, without a human stepping in.

const LEASE_MS = 3_000;
const settings = { LEASE_MS: String(LEASE_MS), AUTOSAVE_INTERVAL_MS: '300', LOG_LEVEL: 'info' };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a worker frozen (SIGSTOP) for longer than its lease', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('faults_sigstop', settings, 2);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('is replaced by the other worker, is fenced when it wakes, and nothing is lost or checkpointed twice', async () => {
    const { campaignId, sessionId } = await createTinyCampaign(stack, 'sigstop');
    const load = startLoad(stack, campaignId, sessionId, 4);
    const lease = campaignKeys(campaignId).lease;
    await waitUntil(
      async () => (await stack.redis.get(lease)) !== null,
      10_000,
      'a worker to take the campaign',
    );
    await sleep(1_000);
    const holderId = (await stack.redis.get(lease)) as string;
    const holder = stack.workers.find((w) => w.output().includes(holderId));
    const other = stack.workers.find((w) => w !== holder);
    expect(holder).toBeDefined();
    const otherId = /"workerId":"([^"]+)"/.exec(other?.output() ?? '')?.[1];

    holder?.process.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await waitUntil(
      async () => (await stack.redis.get(lease)) === otherId,
      4 * LEASE_MS,
      'the other worker to take over',
    );
    const takeoverSeconds = (Date.now() - stoppedAt) / 1_000;
    await sleep(2 * LEASE_MS);
    holder?.process.kill('SIGCONT');
    const frozenSeconds = (Date.now() - stoppedAt) / 1_000;
    await sleep(3_000);
    await load.stop();
    await stack.client.endSession(campaignId, sessionId);

    const result = await checkExactlyOnce(stack, campaignId, load);
    reportFigures('worker frozen with SIGSTOP past its lease', {
      frozenSeconds,
      leaseSeconds: LEASE_MS / 1_000,
      takeoverSeconds,
      ...result,
      appendErrors: load.errors,
    });
    expect(result).toMatchObject({ lost: 0, duplicated: 0, overlappingFlushes: 0, verified: true });
    expect(result.acknowledged).toBeGreaterThan(100);
    expect(load.errors).toBe(0);
    // The woken worker carries on (it is not stuck and did not crash).
    expect(holder?.process.exitCode).toBeNull();
  });
});

describe('Postgres holding a lock on the campaign for 30 s', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('faults_pglock', { ...settings, DURABLE_WAIT_MS: '2000' });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('keeps appends answering from Redis, then catches up exactly once when the lock goes', async () => {
    const { campaignId, sessionId } = await createTinyCampaign(stack, 'pglock');
    const load = startLoad(stack, campaignId, sessionId, 4);
    await sleep(1_000);
    const locker = new pg.Client({ connectionString: stack.db.url });
    await locker.connect();
    await locker.query('begin');
    // Locks the row every checkpoint CAS updates, and every entity row of the campaign.
    await locker.query('select 1 from campaigns where id = $1 for update', [campaignId]);
    await locker.query('select 1 from entities where campaign_id = $1 for update', [campaignId]);
    const lockedAt = Date.now();
    const checkpointAtLock = await checkpointOf(stack, campaignId);
    await sleep(30_000);
    const checkpointBeforeRelease = await checkpointOf(stack, campaignId);
    const during = load.latencies.filter((l) => l.at >= lockedAt).map((l) => l.ms);
    await locker.query('rollback');
    await locker.end();
    const releasedAt = Date.now();
    const head = Number(await stack.redis.get(campaignKeys(campaignId).seq));
    await waitUntil(
      async () => (await checkpointOf(stack, campaignId)) >= head,
      30_000,
      'the worker to catch up',
    );
    const catchUpSeconds = (Date.now() - releasedAt) / 1_000;
    await load.stop();
    await stack.client.endSession(campaignId, sessionId);

    const result = await checkExactlyOnce(stack, campaignId, load);
    reportFigures('Postgres lock held for 30 s', {
      lockSeconds: 30,
      appendsDuringLock: during.length,
      appendP99DuringLockMs: Math.round(p99(during) * 10) / 10,
      checkpointMovedDuringLock: checkpointBeforeRelease !== checkpointAtLock,
      catchUpSeconds,
      ...result,
      appendErrors: load.errors,
    });
    expect(checkpointBeforeRelease).toBe(checkpointAtLock);
    expect(during.length).toBeGreaterThan(100);
    expect(result).toMatchObject({ lost: 0, duplicated: 0, overlappingFlushes: 0, verified: true });
    expect(load.errors).toBe(0);
  }, 120_000);
});

describe('NATS restarted under load', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('faults_nats', settings);
  });
  afterAll(async () => {
    await stack?.close();
  });

  it('reconnects every process by itself, and the retried appends apply exactly once', async () => {
    const { campaignId, sessionId } = await createTinyCampaign(stack, 'natsrestart');
    const load = startLoad(stack, campaignId, sessionId, 4);
    await sleep(2_000);
    stack.killNats();
    const killedAt = Date.now();
    await sleep(3_000);
    await stack.startNats();
    const restartedAt = Date.now();
    const before = load.latencies.length;
    await waitUntil(() => load.latencies.length > before + 20, 30_000, 'appends to flow again');
    const recoverSeconds = (Date.now() - restartedAt) / 1_000;
    await sleep(2_000);
    await load.stop();
    await stack.client.endSession(campaignId, sessionId);

    const result = await checkExactlyOnce(stack, campaignId, load);
    reportFigures('NATS restarted under load', {
      outageSeconds: (restartedAt - killedAt) / 1_000,
      recoverSeconds,
      ...result,
      appendsGivenUp: load.errors,
    });
    expect(result).toMatchObject({ lost: 0, duplicated: 0, overlappingFlushes: 0, verified: true });
    // The services were never restarted by us.
    expect(stack.sessionService.process.exitCode).toBeNull();
    expect(stack.workers[0]?.process.exitCode).toBeNull();
  }, 90_000);
});

async function checkpointOf(stack: Stack, campaignId: string): Promise<number> {
  const row = await stack.db.db
    .selectFrom('campaigns')
    .select('checkpoint_seq')
    .where('id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return Number(row.checkpoint_seq);
}
