import { readPosition, readSyncLog } from '@lorekeeper/pg-store';
import { tinyWorld, waitUntil } from '@lorekeeper/testing';
import { directConsumer } from './test/consumer';
import { blockedOn, holdFlushes } from './test/flushes';
import type { System } from './test/system';
import { startSystem } from './test/system';

// A consumer writes one flush at a time. A major event folded while one is written has its append
// waiting on the next: that flush starts the moment the one in flight ends, not at the next read.
let h: System;

const SETTINGS = { DURABLE_WAIT_MS: '5000', AUTOSAVE_INTERVAL_MS: '600000', BACKLOG_EVENTS: '100000' };

beforeAll(async () => {
  h = await startSystem('majornext', SETTINGS);
});
afterAll(() => h.close());

const gold = { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } };

it('starts the flush a major event waits for as soon as the flush in flight ends, with no read between', async () => {
  const campaignId = await h.createCampaign(tinyWorld, 'majornext');
  const sessionId = await h.startSession(campaignId, ['player:alice']);
  const append = async (events: object[]) =>
    (await h.request(campaignId, 'append', { sessionId, events })).body;
  await append([gold]);
  // Driven by the test: it folds and flushes only when stepped (no worker loop).
  const consumer = await directConsumer(h, campaignId, 'worker-majornext', SETTINGS);
  let folded = 0;
  for (let i = 0; i < 20 && folded < 1; i += 1) folded += await consumer.step();
  expect(folded).toBe(1);

  // A save's flush, held at its last statement.
  const release = await holdFlushes(h);
  consumer.requestFlush('manual');
  await consumer.step();
  expect(await blockedOn(h, /sync_log/)).toBe(true);

  // Meanwhile a quest is taken and completed; the completion's append waits to be durable.
  await append([{ type: 'quest.started', entityId: 'quest:rats', data: { playerId: 'player:alice' } }]);
  const completing = append([{ type: 'quest.completed', entityId: 'quest:rats', data: {} }]);
  for (let i = 0; i < 50 && folded < 3; i += 1) {
    folded += await consumer.step();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  expect(folded).toBe(3);

  // The save commits; nothing steps the consumer again, yet the completion becomes durable.
  await release();
  await waitUntil(
    async () => (await readPosition(h.db.db, campaignId)).archived.seq >= 3,
    3_000,
    'the major event archived',
  );
  expect(await completing).toMatchObject({ seq: 3, durable: true });
  // Newest first.
  const flushes = await readSyncLog(h.db.db, campaignId);
  expect(flushes.map(({ trigger, toSeq }) => ({ trigger, toSeq }))).toEqual([
    { trigger: 'major', toSeq: 3 },
    { trigger: 'manual', toSeq: 1 },
  ]);
});
