import { sql } from 'kysely';
import { readCheckpoint } from '@lorekeeper/pg-store';
import { deleteCampaignKeys } from '@lorekeeper/redis-store';
import { lockWaiters, tinyWorld } from '@lorekeeper/testing';
import type { CampaignConsumer } from './campaign-consumer';
import { directConsumer } from './test/consumer';
import { appendUntilAnswered } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

/**
 * DESIGN.md, failure model, "Redis lost entirely": a new session starts from the checkpoint. The worker
 * still folding the lost session may be flushing at that moment; whichever way the two race, the new
 * session's first seq must follow the checkpoint Postgres ends up with, or seqs are handed out twice.
 */

let h: System;

beforeAll(async () => {
  h = await startSystem('lostflush');
});
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const gold = (delta: number) => [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } }];

/** A campaign with three events appended, all folded (not flushed) by a consumer driven by the test. */
async function foldedCampaign(label: string): Promise<{ campaignId: string; consumer: CampaignConsumer }> {
  const campaignId = await h.createCampaign(tinyWorld, label);
  const sessionId = await h.startSession(campaignId, ['player:alice']);
  for (let i = 1; i <= 3; i += 1) await appendUntilAnswered(h.nats, campaignId, sessionId, gold(i));
  const consumer = await directConsumer(h, campaignId, `worker-${label}`);
  let folded = 0;
  for (let i = 0; i < 20 && folded < 3; i += 1) folded += await consumer.step();
  expect(folded).toBe(3);
  expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(0);
  return { campaignId, consumer };
}

/** Wait until a backend of the test database is blocked on a lock running a statement matching `pattern`. */
async function blockedOn(pattern: RegExp, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await lockWaiters(h.db.db)).some((query) => pattern.test(query))) return true;
    await sleep(20);
  }
  return false;
}

/**
 * Hold every flush of the test database until released, at its last statement (the sync log's insert)
 * or, with `table: 'campaigns'`, at its first (moving the checkpoint). A share lock on campaigns lets
 * a session start's `for share` read through.
 */
async function holdFlushes(table: 'sync_log' | 'campaigns' = 'sync_log'): Promise<() => Promise<void>> {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => (release = resolve));
  let locked: () => void = () => undefined;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = h.db.db.transaction().execute(async (trx) => {
    await sql`lock table ${sql.table(table)} in share mode`.execute(trx);
    locked();
    await released;
  });
  await isLocked;
  return async () => {
    release();
    await holder;
  };
}

describe('a flush of a session Redis lost, racing the start of a new one', () => {
  it('a flush past its session check commits first, and the new session starts from its checkpoint', async () => {
    const { campaignId, consumer } = await foldedCampaign('lostflush-first');
    const releaseFlushes = await holdFlushes();
    // The flush locks the campaign's row, finds its session in Redis, writes, and waits at the sync log.
    const draining = consumer.drain();
    expect(await blockedOn(/sync_log/)).toBe(true);

    // Now Redis loses the campaign, and a game server starts a new session.
    await deleteCampaignKeys(h.redis, campaignId);
    const starting = h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    // The session start waits for the flush's row lock (before the fix it read checkpoint 0 at once).
    const waited = await blockedOn(/for share/);
    await releaseFlushes();
    await draining;
    const reply = await starting;

    expect(waited).toBe(true);
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(3);
    expect(reply.body.error).toBeUndefined();
    expect(reply.body.seq).toBe(3);
    expect(consumer.status).toBe('running');
  }, 60_000);

  it('a flush that meets the new session writes nothing, and the consumer lets the campaign go', async () => {
    const { campaignId, consumer } = await foldedCampaign('lostflush-second');
    await deleteCampaignKeys(h.redis, campaignId);
    const reply = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(reply.body.seq).toBe(0);

    await consumer.drain();

    expect(consumer.status).toBe('lost');
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(0);
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from sync_log where campaign_id = ${campaignId}`.execute(h.db.db);
    expect(rows[0]?.n).toBe(0);
  }, 60_000);

  it('a flush that reaches the checkpoint after the new session started writes nothing', async () => {
    const { campaignId, consumer } = await foldedCampaign('lostflush-late');
    const releaseFlushes = await holdFlushes('campaigns');
    // The flush is under way while the session is still in Redis, but has not locked the row yet.
    const draining = consumer.drain();
    expect(await blockedOn(/update "campaigns"/)).toBe(true);

    await deleteCampaignKeys(h.redis, campaignId);
    const reply = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(reply.body.seq).toBe(0);
    await releaseFlushes();
    await draining;

    expect(consumer.status).toBe('lost');
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(0);
  }, 60_000);
});
