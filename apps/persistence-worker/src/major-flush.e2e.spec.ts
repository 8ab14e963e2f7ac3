import { findEntity, readEvents, readPosition, readSyncLog } from '@lorekeeper/pg-store';
import { verifyCampaign } from '@lorekeeper/replay';
import type { DurableNotice } from '@lorekeeper/protocol';
import { durableSubject } from '@lorekeeper/protocol';
import { campaignKeys, deleteCampaignKeys } from '@lorekeeper/redis-store';
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
    // The worker has found the new campaign: the append's short wait (DURABLE_WAIT_MS) measures the
    // flush and its notice, not how soon a loaded machine runs the worker's discovery.
    await waitUntil(
      async () => (await h.redis.exists(campaignKeys(campaignId).lease)) === 1,
      10_000,
      'the lease',
    );
    const reply = (await h.request(campaignId, 'append', { sessionId, events: [questDone('quest:rats')] }))
      .body as { seq: number; durable: boolean };
    expect(reply).toMatchObject({ seq: 2, durable: true });
    await waitUntil(async () => notices.length > 0, 5_000, 'a notice of the flush');
    subscription.unsubscribe();
    // Events durable up to seq 2 (archived); the entities still at the created world's checkpoint.
    expect(notices).toEqual([{ campaignId, seq: 2, checkpoint: 0 }]);
    expect((await readPosition(h.db.db, campaignId)).archived.seq).toBe(2);
  });
});

describe('a major event\'s flush (docs/architecture.md, "Major events: the archive first")', () => {
  /** A campaign whose quest was completed at seq 2, durable: true, and nothing flushed but the archive. */
  async function completedQuest() {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const append = async (events: object[]) =>
      (await h.request(campaignId, 'append', { sessionId, events })).body as Record<string, unknown>;
    await append([questStarted('quest:rats')]);
    expect(await append([questDone('quest:rats')])).toMatchObject({ seq: 2, durable: true });
    return { campaignId, sessionId, append };
  }

  it('archives the events up to it and writes no entity; the next save writes them, archiving nothing twice', async () => {
    const { campaignId, sessionId, append } = await completedQuest();
    expect(await readPosition(h.db.db, campaignId)).toEqual({
      checkpoint: { seq: 0, streamId: '0-0' },
      archived: { seq: 2, streamId: expect.stringMatching(/^2-/) as unknown },
    });
    expect((await readEvents(h.db.db, campaignId)).map((e) => e.seq)).toEqual([1, 2]);
    // The entity in Postgres is still the world's: only the archive knows the quest is done.
    expect((await findEntity(h.db.db, campaignId, 'quest:rats'))?.state).toMatchObject({
      status: 'available',
    });

    await append([gold]);
    const saved = (await h.request(campaignId, 'save', { sessionId })).body;
    expect(saved).toMatchObject({ seq: 3 });
    const position = await readPosition(h.db.db, campaignId);
    expect(position.checkpoint.seq).toBe(3);
    expect(position.archived.seq).toBe(3);
    expect((await readEvents(h.db.db, campaignId)).map((e) => e.seq)).toEqual([1, 2, 3]);
    expect((await findEntity(h.db.db, campaignId, 'quest:rats'))?.state).toMatchObject({
      status: 'completed',
    });
    const flushes = (await readSyncLog(h.db.db, campaignId)).reverse();
    expect(
      flushes.map(({ trigger, fromSeq, toSeq, entitiesWritten, eventsArchived }) => ({
        trigger,
        fromSeq,
        toSeq,
        entitiesWritten,
        eventsArchived,
      })),
    ).toEqual([
      { trigger: 'major', fromSeq: 1, toSeq: 2, entitiesWritten: 0, eventsArchived: 2 },
      { trigger: 'manual', fromSeq: 1, toSeq: 3, entitiesWritten: 2, eventsArchived: 1 },
    ]);
    expect((await verifyCampaign(h.db.db, campaignId, { redis: h.redis })).ok).toBe(true);
  });

  it('survives Redis losing the campaign: a new session starts where the archive ends, with the quest done', async () => {
    const { campaignId } = await completedQuest();
    // A session joined while the archive is ahead changes nothing in Postgres.
    const joined = (await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] })).body;
    expect(joined).toMatchObject({ seq: 2 });
    expect((await readPosition(h.db.db, campaignId)).checkpoint.seq).toBe(0);

    await deleteCampaignKeys(h.redis, campaignId);
    const started = (await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] })).body as {
      sessionId: string;
      seq: number;
    };
    expect(started.seq).toBe(2);
    expect(await readPosition(h.db.db, campaignId)).toMatchObject({
      checkpoint: { seq: 2 },
      archived: { seq: 2 },
    });
    expect((await findEntity(h.db.db, campaignId, 'quest:rats'))?.state).toMatchObject({
      status: 'completed',
    });
    expect((await readSyncLog(h.db.db, campaignId))[0]).toMatchObject({
      trigger: 'archived-tail',
      fromSeq: 1,
      toSeq: 2,
      entitiesWritten: 1,
    });
    // The new session goes on from seq 3, and the quest cannot be completed twice.
    const again = (
      await h.request(campaignId, 'append', {
        sessionId: started.sessionId,
        events: [questDone('quest:rats')],
      })
    ).body as { error?: { code: string } };
    expect(again.error?.code).toBe('VALIDATION_FAILED');
    const next = (await h.request(campaignId, 'append', { sessionId: started.sessionId, events: [gold] }))
      .body;
    expect(next).toMatchObject({ seq: 3 });
    expect((await verifyCampaign(h.db.db, campaignId, { redis: h.redis })).ok).toBe(true);
  });
});
