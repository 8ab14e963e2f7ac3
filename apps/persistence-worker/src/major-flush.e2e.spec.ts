import { readCheckpoint, readSyncLog } from '@lorekeeper/pg-store';
import type { DurableNotice } from '@lorekeeper/protocol';
import { durableSubject } from '@lorekeeper/protocol';
import { campaignKeys } from '@lorekeeper/redis-store';
import { tinyWorld, waitUntil } from '@lorekeeper/testing';
import type { System } from './test/system';
import { startSystem } from './test/system';

let h: System;

beforeAll(async () => {
  // Only majors flush here: no autosave and no backlog bound within the test.
  h = await startSystem('majors', {
    DURABLE_WAIT_MS: '300',
    AUTOSAVE_INTERVAL_MS: '600000',
    BACKLOG_EVENTS: '100000',
  });
});
afterAll(() => h.close());

const questDone = (entityId: string) => ({ type: 'quest.completed', entityId, data: {} });
const questStarted = (entityId: string) => ({
  type: 'quest.started',
  entityId,
  data: { playerId: 'player:alice' },
});
const gold = { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } };

describe('a major event', () => {
  it('forces a flush while its append waits, not once the wait is long over (a backlog coalesces)', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const append = async (events: object[]) =>
      (await h.request(campaignId, 'append', { sessionId, events })).body;

    // No worker yet: the completion waits DURABLE_WAIT_MS and says it is not durable.
    await append([questStarted('quest:rats')]);
    expect(await append([gold, questDone('quest:rats')])).toMatchObject({ seq: 3, durable: false });
    for (let i = 0; i < 20; i += 1) await append([gold]);
    await new Promise((resolve) => setTimeout(resolve, 2 * 300 + 200));

    // The worker catches up the backlog: the old major alone makes no flush.
    await h.startWorker();
    await waitUntil(
      async () => (await h.redis.exists(campaignKeys(campaignId).lease)) === 1,
      10_000,
      'the lease',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(await readSyncLog(h.db.db, campaignId)).toEqual([]);

    // A fresh major is waited for, and its flush takes the backlog before it along.
    expect(await append([questDone('quest:relic')])).toMatchObject({ seq: 24, durable: true });
    const flushes = await readSyncLog(h.db.db, campaignId);
    expect(flushes.map(({ trigger, fromSeq, toSeq }) => ({ trigger, fromSeq, toSeq }))).toEqual([
      { trigger: 'major', fromSeq: 1, toSeq: 24 },
    ]);
  });

  it('is announced once durable: the worker publishes each flush it commits on lorekeeper.durable.<id>', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const notices: DurableNotice[] = [];
    const subscription = h.nats.subscribe(durableSubject(campaignId), {
      callback: (_error, message) => notices.push(JSON.parse(message.string()) as DurableNotice),
    });
    await h.nats.flush();
    await h.request(campaignId, 'append', { sessionId, events: [questStarted('quest:rats')] });
    const reply = (await h.request(campaignId, 'append', { sessionId, events: [questDone('quest:rats')] }))
      .body as { seq: number; durable: boolean };
    expect(reply).toMatchObject({ seq: 2, durable: true });
    await waitUntil(async () => notices.length > 0, 5_000, 'a notice of the flush');
    subscription.unsubscribe();
    expect(notices).toEqual([{ campaignId, seq: 2 }]);
    expect((await readCheckpoint(h.db.db, campaignId)).seq).toBe(2);
  });
});
