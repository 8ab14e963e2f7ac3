import { userInfo } from 'node:os';
import {
  findCampaign,
  insertCampaign,
  listDeadLetters,
  recordDeadLetter,
  recordSync,
} from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import {
  ACTIVE_CAMPAIGNS_KEY,
  CONSUMER_GROUP,
  campaignKeys,
  connectRedis,
  deleteCampaignKeys,
  pendingCount,
  streamIdOf,
} from '@lorekeeper/redis-store';
import type { TestDatabase } from '@lorekeeper/testing';
import { createTestDatabase, serviceUrls, uniqueCampaignId } from '@lorekeeper/testing';
import { assertCliBuilt, runCli } from '../test/run-cli';

const payload = (seq: number) => ({
  seq,
  type: 'player.gold.changed',
  entityId: 'player:alice',
  version: seq,
  data: { delta: -1_000 },
  meta: { sessionId: 's1', batchId: `b${seq}`, at: new Date().toISOString() },
});

describe('lorekeeper streams and dead-letters', () => {
  const { redisUrl } = serviceUrls();
  /** Quarantined at seq 5 (checkpoint 4); healthy; quarantined with entries between checkpoint and poison. */
  const poisoned = uniqueCampaignId('cli-dl-poisoned');
  const healthy = uniqueCampaignId('cli-dl-healthy');
  const behind = uniqueCampaignId('cli-dl-behind');
  let test: TestDatabase;
  let redis: Redis;

  const lorekeeper = (args: readonly string[]) =>
    runCli(args, { DATABASE_URL: test.url, REDIS_URL: redisUrl });

  /** A live stream of `length` entries; the first `delivered` handed to worker w1, the first `acked` acknowledged. */
  async function liveStream(campaignId: string, length: number, delivered: number, acked: number) {
    const keys = campaignKeys(campaignId);
    for (let seq = 1; seq <= length; seq += 1) {
      const e = payload(seq);
      await redis.xadd(
        keys.events,
        streamIdOf(seq),
        'type',
        e.type,
        'entityId',
        e.entityId,
        'version',
        String(e.version),
        'data',
        JSON.stringify(e.data),
        'meta',
        JSON.stringify(e.meta),
      );
    }
    await redis.set(keys.seq, String(length));
    await redis.xgroup('CREATE', keys.events, CONSUMER_GROUP, '0');
    await redis.xreadgroup('GROUP', CONSUMER_GROUP, 'w1', 'COUNT', delivered, 'STREAMS', keys.events, '>');
    for (let seq = 1; seq <= acked; seq += 1) await redis.xack(keys.events, CONSUMER_GROUP, streamIdOf(seq));
    await redis.sadd(ACTIVE_CAMPAIGNS_KEY, campaignId);
  }

  async function quarantine(campaignId: string, checkpointSeq: number, poisonSeq: number) {
    await test.db
      .updateTable('campaigns')
      .set({
        status: 'quarantined',
        checkpoint_seq: checkpointSeq,
        checkpoint_stream_id: streamIdOf(checkpointSeq),
      })
      .where('id', '=', campaignId)
      .execute();
    await recordDeadLetter(test.db, {
      campaignId,
      streamId: streamIdOf(poisonSeq),
      seq: poisonSeq,
      payload: payload(poisonSeq),
      error: 'VALIDATION_FAILED: gold would go below 0',
    });
  }

  beforeAll(async () => {
    assertCliBuilt();
    test = await createTestDatabase('cli_dead_letters');
    redis = await connectRedis(redisUrl);
    await test.db.transaction().execute(async (trx) => {
      for (const id of [poisoned, healthy, behind]) await insertCampaign(trx, { id, name: id });
    });
    await liveStream(poisoned, 6, 6, 4);
    await quarantine(poisoned, 4, 5);
    await liveStream(healthy, 5, 3, 3);
    await test.db
      .updateTable('campaigns')
      // A major event's flush archived seq 4 past the entity checkpoint.
      .set({ checkpoint_seq: 3, checkpoint_stream_id: '3-0', archived_seq: 4, archived_stream_id: '4-0' })
      .where('id', '=', healthy)
      .execute();
    await recordSync(test.db, {
      campaignId: healthy,
      fromSeq: 1,
      toSeq: 3,
      entitiesWritten: 1,
      entitiesDeleted: 0,
      eventsArchived: 3,
      durationMs: 4,
      trigger: 'autosave',
    });
    await redis.set(campaignKeys(healthy).lease, 'worker-b', 'PX', 60_000);
    await quarantine(behind, 2, 5);
  });

  afterAll(async () => {
    for (const id of [poisoned, healthy, behind]) await deleteCampaignKeys(redis, id);
    redis.disconnect();
    await test.destroy();
  });

  it('streams shows length, lag, pending, head, checkpoint, last flush, lease and quarantine', async () => {
    const run = await lorekeeper(['streams', '--json']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const rows = (JSON.parse(run.stdout) as { campaigns: { campaignId: string }[] }).campaigns;
    const row = (id: string) => rows.find((r) => r.campaignId === id);
    expect(row(poisoned)).toMatchObject({
      status: 'quarantined',
      headSeq: 6,
      streamLength: 6,
      groupLag: 0,
      pending: 2,
      checkpointSeq: 4,
      archivedSeq: 4,
      behind: 2,
      lastFlushAt: null,
      leaseHolder: null,
    });
    expect(row(healthy)).toMatchObject({
      status: 'active',
      headSeq: 5,
      streamLength: 5,
      groupLag: 2,
      pending: 0,
      checkpointSeq: 3,
      archivedSeq: 4,
      behind: 1,
      leaseHolder: 'worker-b',
    });
    expect(row(healthy)).toHaveProperty('lastFlushAgeSeconds', expect.any(Number));

    const table = await lorekeeper(['streams']);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^CAMPAIGN\s+STATUS\s+HEAD\s+CHECKPOINT\s+ARCHIVED\s+BEHIND\s+LAST FLUSH\s+LENGTH\s+LAG\s+PENDING\s+LEASE/,
    );
    expect(table.stdout).toMatch(
      new RegExp(`${poisoned}\\s+quarantined\\s+6\\s+4\\s+4\\s+2\\s+never\\s+6\\s+0\\s+2\\s+\\(none\\)`),
    );
    expect(table.stdout).toMatch(/quarantined: see `lorekeeper dead-letters list`/);
  });

  it('lists open dead letters with campaign, seq, type, entity, error and when', async () => {
    const run = await lorekeeper(['dead-letters', 'list', '--campaign', poisoned, '--json']);
    expect(run.code).toBe(0);
    const letters = JSON.parse(run.stdout).deadLetters;
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      campaignId: poisoned,
      seq: 5,
      streamId: '5-0',
      type: 'player.gold.changed',
      entityId: 'player:alice',
      status: 'open',
      error: 'VALIDATION_FAILED: gold would go below 0',
    });
    const text = await lorekeeper(['dead-letters', 'list']);
    expect(text.stdout).toMatch(
      new RegExp(
        `${poisoned}\\s+5\\s+player.gold.changed\\s+player:alice\\s+open\\s+\\S+Z\\s+VALIDATION_FAILED`,
      ),
    );
    expect((await lorekeeper(['dead-letters', 'list', '--campaign', healthy])).stdout.trim()).toBe(
      'no open dead letters',
    );
  });

  it('refuses to skip without --yes off a terminal, an unknown seq, and an entry past un-flushed ones', async () => {
    const noYes = await lorekeeper(['dead-letters', 'skip', poisoned, '--seq', '5', '--reason', 'r']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toMatch(/pass --yes/);
    const wrongSeq = await lorekeeper([
      'dead-letters',
      'skip',
      poisoned,
      '--seq',
      '6',
      '--reason',
      'r',
      '--yes',
    ]);
    expect(wrongSeq.code).toBe(1);
    expect(wrongSeq.stderr).toMatch(/no open dead letter at seq 6 \(open: 5\)/);
    const notNext = await lorekeeper([
      'dead-letters',
      'skip',
      behind,
      '--seq',
      '5',
      '--reason',
      'r',
      '--yes',
    ]);
    expect(notNext.code).toBe(1);
    expect(notNext.stderr).toMatch(/not the entry right after the checkpoint \(2\)/);
    expect(await findCampaign(test.db, behind)).toMatchObject({
      status: 'quarantined',
      checkpoint: { seq: 2 },
    });
    expect(await findCampaign(test.db, poisoned)).toMatchObject({
      status: 'quarantined',
      checkpoint: { seq: 4 },
    });
  });

  it('skip --yes records who, when and why, moves the checkpoint past the entry, acks it and reactivates', async () => {
    const run = await lorekeeper([
      'dead-letters',
      'skip',
      poisoned,
      '--seq',
      '5',
      '--reason',
      'hand-written entry',
      '--yes',
      '--json',
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      status: 'active',
      checkpoint: { seq: 5, streamId: '5-0' },
    });

    const [letter] = await listDeadLetters(test.db, { campaignId: poisoned });
    expect(letter).toMatchObject({ status: 'skipped', resolutionReason: 'hand-written entry' });
    expect(letter?.resolvedBy).toMatch(new RegExp(`^${userInfo().username}@`));
    expect(letter?.resolvedAt).toBeInstanceOf(Date);
    expect(await findCampaign(test.db, poisoned)).toMatchObject({
      status: 'active',
      checkpoint: { seq: 5, streamId: '5-0' },
    });
    expect(await pendingCount(redis, poisoned)).toBe(1);

    const again = await lorekeeper([
      'dead-letters',
      'skip',
      poisoned,
      '--seq',
      '5',
      '--reason',
      'r',
      '--yes',
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/no open dead letter at seq 5/);
    const all = await lorekeeper(['dead-letters', 'list', '--campaign', poisoned, '--all']);
    expect(all.stdout).toMatch(/skipped by \S+@\S+: hand-written entry/);
  });

  it('retry marks the open letters retried and sets the campaign active; nothing left to retry is refused', async () => {
    await quarantine(poisoned, 5, 6);
    const run = await lorekeeper([
      'dead-letters',
      'retry',
      poisoned,
      '--reason',
      'fixed the worker',
      '--json',
    ]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({
      ok: true,
      status: 'active',
      wasQuarantined: true,
      retried: [{ seq: 6 }],
    });
    expect(await findCampaign(test.db, poisoned)).toMatchObject({ status: 'active', checkpoint: { seq: 5 } });
    expect((await listDeadLetters(test.db, { campaignId: poisoned, status: 'retried' }))[0]).toMatchObject({
      seq: 6,
      resolutionReason: 'fixed the worker',
    });

    const nothing = await lorekeeper(['dead-letters', 'retry', poisoned]);
    expect(nothing.code).toBe(1);
    expect(nothing.stderr).toMatch(/not quarantined and has no open dead letters/);
    expect((await lorekeeper(['dead-letters', 'retry', 'no-such-campaign'])).code).toBe(1);
  });
});
