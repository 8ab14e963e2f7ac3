import type { Entity } from '@lorekeeper/domain';
import { readCheckpoint, readPosition, readSyncLog } from '@lorekeeper/pg-store';
import { tinyWorld } from '@lorekeeper/testing';
import { directConsumer } from './test/consumer';
import type { System } from './test/system';
import { startSystem } from './test/system';

/**
 * A major event's flush only archives (docs/architecture.md, "Major events: the archive first"). The
 * entities must still follow at the backlog bound when every read holds one: the stream is
 * acknowledged and trimmed only behind the entity checkpoint, so a worker that kept archiving instead
 * would let the stream, and Redis, grow without bound.
 */

let h: System;

beforeAll(async () => {
  // No worker runs: the test drives one consumer itself. Appends wait only briefly for durability.
  h = await startSystem('majorbacklog', { DURABLE_WAIT_MS: '50', AUTOSAVE_INTERVAL_MS: '600000' });
});
afterAll(() => h.close());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('writes the entities at the backlog bound even when every read holds a major event', async () => {
  const quests = Array.from({ length: 8 }, (_, i) => `quest:q${i}`);
  const questEntities: Entity[] = quests.map((id) => ({
    id,
    kind: 'quest',
    version: 0,
    state: { name: id, regionId: 'region:vale', status: 'available', step: 0, playerId: null },
  }));
  const campaignId = await h.createCampaign({
    ...tinyWorld,
    entities: [...tinyWorld.entities, ...questEntities],
  });
  const sessionId = await h.startSession(campaignId, ['player:alice']);
  const append = async (events: object[]) =>
    (await h.request(campaignId, 'append', { sessionId, events })).body;
  // Every major event counts as awaited (its append is young), and 10 events make a backlog.
  const consumer = await directConsumer(h, campaignId, 'worker-majorbacklog', {
    DURABLE_WAIT_MS: '600000',
    BACKLOG_EVENTS: '10',
  });

  for (const quest of quests) {
    await append([{ type: 'quest.started', entityId: quest, data: { playerId: 'player:alice' } }]);
    await append([
      { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } },
      { type: 'quest.completed', entityId: quest, data: {} },
    ]);
    // One read of the three new events, a major among them, and time for the flush it starts: every
    // step the consumer takes folds a major event.
    await consumer.step();
    await sleep(150);
  }

  const triggers = (await readSyncLog(h.db.db, campaignId)).map((flush) => flush.trigger);
  expect(triggers).toContain('major');
  expect(triggers).toContain('backlog');
  // 24 events: the entities were written at least up to the backlog bound, and the archive is at the head.
  expect((await readCheckpoint(h.db.db, campaignId)).seq).toBeGreaterThanOrEqual(10);
  expect((await readPosition(h.db.db, campaignId)).archived.seq).toBe(24);
  await consumer.drain();
});
