import { readCheckpoint } from '@lorekeeper/pg-store';
import { pendingCount, readGroup } from '@lorekeeper/redis-store';
import { tinyWorld } from '@lorekeeper/testing';
import { directConsumer } from './test/consumer';
import { appendUntilAnswered } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

let h: System;

beforeAll(async () => {
  h = await startSystem('tailgap');
});
afterAll(() => h.close());

const gold = (delta: number) => [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } }];

describe('a consumer whose former owner was given the stream tail', () => {
  it('reads the tail when the stream looks drained, and checkpoints up to the head', async () => {
    const campaignId = await h.createCampaign(tinyWorld, 'tailgap');
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    for (let i = 1; i <= 3; i += 1) await appendUntilAnswered(h.nats, campaignId, sessionId, gold(i));
    const consumer = await directConsumer(h, campaignId, 'worker-new');
    // Joins the group and folds seqs 1..3.
    while (consumer.checkpoint.seq < 3) {
      consumer.requestFlush('manual');
      await consumer.step();
      await consumer.drain();
    }

    // A former owner, paused past its lease, wakes and reads the two newest entries before it learns
    // it lost the campaign: no later entry will ever show the new owner that gap.
    for (let i = 4; i <= 5; i += 1) await appendUntilAnswered(h.nats, campaignId, sessionId, gold(i));
    const stolen = await readGroup(h.redis, campaignId, 'worker-old', 10);
    expect(stolen.map((entry) => entry.streamId)).toEqual(['4-0', '5-0']);

    consumer.requestFlush('manual');
    for (let i = 0; i < 10 && consumer.checkpoint.seq < 5; i += 1) {
      await consumer.step();
      await consumer.drain();
    }
    expect(consumer.checkpoint.seq).toBe(5);
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(5);
    // Reads keep no pending list, for either consumer: there is nothing to claim or acknowledge.
    expect(await pendingCount(h.redis, campaignId)).toBe(0);
  }, 60_000);
});

describe('a consumer taking a campaign over', () => {
  it('folds what the group handed out past the checkpoint before any new entry, then checkpoints the head', async () => {
    const campaignId = await h.createCampaign(tinyWorld, 'takeover');
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    for (let i = 1; i <= 3; i += 1) await appendUntilAnswered(h.nats, campaignId, sessionId, gold(i));
    // A former owner joined, was handed 1..3 and stopped before its flush: nothing keeps them pending.
    const consumer = await directConsumer(h, campaignId, 'worker-new');
    const formerOwner = await directConsumer(h, campaignId, 'worker-old');
    expect(await formerOwner.step()).toBe(3);
    for (let i = 4; i <= 5; i += 1) await appendUntilAnswered(h.nats, campaignId, sessionId, gold(i));

    // The new owner reads 1..3 again by range first, then the group's 4..5.
    expect(await consumer.step()).toBe(3);
    expect(await consumer.step()).toBe(2);
    consumer.requestFlush('manual');
    await consumer.step();
    await consumer.drain();
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(5);
  }, 60_000);
});
