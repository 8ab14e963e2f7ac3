import { readCheckpoint } from '@lorekeeper/pg-store';
import { tinyWorld, waitUntil } from '@lorekeeper/testing';
import type { CampaignConsumer } from './campaign-consumer';
import { directConsumer } from './test/consumer';
import { appendUntilAnswered } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

let h: System;

beforeAll(async () => {
  h = await startSystem('catchup');
});
afterAll(() => h.close());

const golds = (count: number) =>
  Array.from({ length: count }, () => ({
    type: 'player.gold.changed',
    entityId: 'player:alice',
    data: { delta: 1 },
  }));

/** A campaign whose stream holds `events` gold gains, and a consumer for it (no worker runs here). */
async function backlogOf(events: number): Promise<{ campaignId: string; consumer: CampaignConsumer }> {
  const campaignId = await h.createCampaign(tinyWorld, 'catchup');
  const sessionId = await h.startSession(campaignId, ['player:alice']);
  for (let sent = 0; sent < events; sent += 100) {
    await appendUntilAnswered(h.nats, campaignId, sessionId, golds(100));
  }
  // A read is 1,000 entries: the bound is met after one read of fresh entries, but while catching
  // up an old backlog it is 4 times larger, so only after the second read.
  const consumer = await directConsumer(h, campaignId, 'worker-catchup', {
    BACKLOG_EVENTS: '500',
    CATCH_UP_BACKLOG_FACTOR: '4',
    AUTOSAVE_INTERVAL_MS: '3600000',
  });
  return { campaignId, consumer };
}

async function firstFlush(campaignId: string): Promise<{ from: number; to: number; trigger: string }> {
  let row: { from_seq: number; to_seq: number; trigger: string } | undefined;
  await waitUntil(
    async () => {
      row = await h.db.db
        .selectFrom('sync_log')
        .select(['from_seq', 'to_seq', 'trigger'])
        .where('campaign_id', '=', campaignId)
        .orderBy('id')
        .executeTakeFirst();
      return row !== undefined;
    },
    10_000,
    `a flush of ${campaignId}`,
  );
  return { from: Number(row!.from_seq), to: Number(row!.to_seq), trigger: row!.trigger };
}

describe('the backlog bound while catching up (CATCH_UP_BACKLOG_FACTOR)', () => {
  it('flushes a full read of fresh entries at BACKLOG_EVENTS: a busy campaign keeps its lag short', async () => {
    const { campaignId, consumer } = await backlogOf(2_000);
    await consumer.step(Date.now());
    expect(await firstFlush(campaignId)).toEqual({ from: 1, to: 1_000, trigger: 'backlog' });
    await consumer.drain();
  }, 60_000);

  it('lets the flush grow by the factor while the reads come back full of old entries', async () => {
    const { campaignId, consumer } = await backlogOf(3_000);
    // A minute later: every entry in the stream is older than the catch-up age (5 s).
    const later = Date.now() + 60_000;
    await consumer.step(later);
    await consumer.step(later);
    expect(await firstFlush(campaignId)).toEqual({ from: 1, to: 2_000, trigger: 'backlog' });
    await consumer.step(later);
    await consumer.drain();
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(3_000);
  }, 60_000);
});
