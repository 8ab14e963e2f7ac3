import type { Entity } from '@lorekeeper/domain';
import { readEvents, readSyncLog, recordSync } from '@lorekeeper/pg-store';
import { EVENT_FIELD, campaignKeys, listLive, streamEventJson } from '@lorekeeper/redis-store';
import { replayTo } from '@lorekeeper/replay';
import { tinyWorld, waitUntil } from '@lorekeeper/testing';
import type { System } from './test/system';
import { startSystem } from './test/system';
import type { RunningWorker } from './service';

let h: System;
let firstWorker: RunningWorker;

beforeAll(async () => {
  h = await startSystem('worker', {
    AUTOSAVE_INTERVAL_MS: '600000',
    BACKLOG_EVENTS: '50000',
    LEASE_MS: '3000',
  });
  firstWorker = await h.startWorker();
});
afterAll(() => h.close());

const gold = (entityId: string, delta: number) => ({
  type: 'player.gold.changed',
  entityId,
  data: { delta },
});

async function durableEntities(campaignId: string): Promise<Map<string, Entity>> {
  const rows = await h.db.db
    .selectFrom('entities')
    .select(['id', 'kind', 'version', 'state'])
    .where('campaign_id', '=', campaignId)
    .execute();
  return new Map(rows.map((row) => [row.id, row as Entity]));
}

/** A campaign's dead letters, and its status and checkpoint: what a quarantine leaves. */
async function quarantine(campaignId: string) {
  const letters = await h.db.db
    .selectFrom('dead_letters')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .execute();
  const campaign = await h.db.db
    .selectFrom('campaigns')
    .select(['status', 'checkpoint_seq'])
    .where('id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return { letters, campaign };
}

describe('the persistence worker', () => {
  it('makes everything up to the head durable on save, and replies with the committed seq', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice', 'player:bob']);
    await h.request(campaignId, 'append', {
      sessionId,
      events: [
        gold('player:alice', 5),
        { type: 'item.moved', entityId: 'item:sword', data: { fromId: 'player:alice', toId: 'player:bob' } },
        {
          type: 'combat.started',
          entityId: 'combat:c1',
          data: { regionId: 'region:vale', participantIds: ['player:alice'] },
        },
        { type: 'item.destroyed', entityId: 'item:shield', data: {} },
      ],
    });
    const saved = await h.request(campaignId, 'save', { sessionId });
    expect(saved.body).toEqual({ seq: 4, entitiesWritten: 3 });

    const durable = await durableEntities(campaignId);
    expect(durable.get('player:alice')).toMatchObject({ version: 1, state: { gold: 15 } });
    expect(durable.get('item:sword')).toMatchObject({ version: 1, state: { ownerId: 'player:bob' } });
    expect(durable.has('item:shield')).toBe(false);
    expect(durable.has('combat:c1')).toBe(false);
    // Transient events never reach the archive.
    const archived = await readEvents(h.db.db, campaignId, {});
    expect(archived.map((e) => e.type)).toEqual(['player.gold.changed', 'item.moved', 'item.destroyed']);
    const checkpoint = await h.db.db
      .selectFrom('campaigns')
      .select('checkpoint_seq')
      .where('id', '=', campaignId)
      .executeTakeFirstOrThrow();
    expect(checkpoint.checkpoint_seq).toBe(4);
  });

  it('answers a major event only once Postgres has it (durable: true)', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'quest.started', entityId: 'quest:rats', data: { playerId: 'player:alice' } }],
    });
    const completed = await h.request(campaignId, 'append', {
      sessionId,
      events: [gold('player:alice', 1), { type: 'quest.completed', entityId: 'quest:rats', data: {} }],
    });
    expect(completed.body).toMatchObject({ seq: 3, durable: true });
    // Durable in the archive (the entities follow on the save cadence: major-flush.e2e.spec.ts).
    const archived = await readEvents(h.db.db, campaignId, { entityId: 'quest:rats' });
    expect(archived.map(({ seq, type }) => ({ seq, type }))).toEqual([
      { seq: 1, type: 'quest.started' },
      { seq: 3, type: 'quest.completed' },
    ]);
    const replayed = await replayTo(h.db.db, campaignId, 3);
    expect(replayed.state.get('quest:rats')).toMatchObject({ version: 2, state: { status: 'completed' } });
  });

  it('writes each changed entity once per flush: 10,000 events on 10 entities are 10 row writes', async () => {
    const players = Array.from({ length: 10 }, (_, i) => ({
      id: `player:hot${i}`,
      kind: 'player',
      version: 0,
      state: { name: `Hot ${i}`, regionId: 'region:vale', gold: 0, xp: 0 },
    }));
    const campaignId = await h.createCampaign({
      ...tinyWorld,
      entities: [...tinyWorld.entities, ...players],
    });
    const sessionId = await h.startSession(
      campaignId,
      players.map((p) => p.id),
    );
    for (let batch = 0; batch < 10; batch += 1) {
      const events = Array.from({ length: 1_000 }, (_, i) => gold(`player:hot${i % 10}`, 1));
      const reply = await h.request(campaignId, 'append', { sessionId, events });
      expect(reply.body.results).toHaveLength(1_000);
    }
    const saved = await h.request(campaignId, 'save', { sessionId });
    expect(saved.body).toEqual({ seq: 10_000, entitiesWritten: 10 });
    const log = await readSyncLog(h.db.db, campaignId);
    expect(
      log
        .filter((entry) => entry.eventsArchived > 0)
        .map((entry) => [entry.entitiesWritten, entry.eventsArchived]),
    ).toEqual([[10, 10_000]]);
    const durable = await durableEntities(campaignId);
    for (const player of players)
      expect(durable.get(player.id)).toMatchObject({ version: 1_000, state: { gold: 1_000 } });
  });

  it('ends a session: final flush, every Redis key gone, and a new session sees the final state', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    await h.request(campaignId, 'append', {
      sessionId,
      events: [gold('player:alice', 7), gold('player:alice', -2)],
    });
    const ended = await h.request(campaignId, 'session.end', { sessionId });
    expect(ended.body).toEqual({ seq: 2 });
    const left = await h.redis.keys(`lk:{c:${campaignId}}:*`);
    expect(left).toEqual([]);
    const after = await h.request(campaignId, 'append', { sessionId, events: [gold('player:alice', 1)] });
    expect(after.body.error.code).toBe('SESSION_NOT_FOUND');

    const again = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(again.body.sessionId).not.toBe(sessionId);
    expect(again.body.seq).toBe(2);
    const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
    expect(alice.body.entity).toMatchObject({ version: 2, state: { gold: 15 } });
    const next = await h.request(campaignId, 'append', {
      sessionId: again.body.sessionId,
      events: [gold('player:alice', 1)],
    });
    expect(next.body.results[0]).toMatchObject({ seq: 3, version: 3 });
    expect(await listLive(h.redis, campaignId)).toEqual(
      expect.arrayContaining([expect.objectContaining({ id: 'player:alice' })]),
    );
  });

  it('quarantines only the campaign with a poison entry; the others keep checkpointing', async () => {
    const poisoned = await h.createCampaign(tinyWorld, 'poisoned');
    const healthy = await h.createCampaign(tinyWorld, 'healthy');
    const poisonedSession = await h.startSession(poisoned, ['player:alice']);
    const healthySession = await h.startSession(healthy, ['player:alice']);
    await h.request(poisoned, 'append', { sessionId: poisonedSession, events: [gold('player:alice', 1)] });
    // An entry the session service would never write: it claims a version the entity cannot have.
    const keys = campaignKeys(poisoned);
    const seq = await h.redis.incr(keys.seq);
    await h.redis.xadd(
      keys.events,
      `${seq}-0`,
      'type',
      'player.gold.changed',
      'entityId',
      'player:alice',
      'version',
      '9',
      'data',
      '{"delta":1}',
      'meta',
      '{}',
    );

    await h.request(healthy, 'append', { sessionId: healthySession, events: [gold('player:alice', 3)] });
    const saved = await h.request(healthy, 'save', { sessionId: healthySession });
    expect(saved.body).toMatchObject({ seq: 1 });

    const poisonedSave = await h.request(poisoned, 'save', { sessionId: poisonedSession }, 40_000);
    expect(poisonedSave.body.error.code).toBe('UNAVAILABLE');
    const { letters, campaign } = await quarantine(poisoned);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stream_id: `${seq}-0`, status: 'open' });
    // The good event before the poison one is durable; nothing after it is.
    expect(campaign).toEqual({ status: 'quarantined', checkpoint_seq: 1 });
  }, 60_000);

  it('quarantines a campaign whose stream holds an event type the catalogue does not have', async () => {
    const campaignId = await h.createCampaign(tinyWorld, 'unknown-type');
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    await h.request(campaignId, 'append', { sessionId, events: [gold('player:alice', 1)] });
    // Written by something other than the session service, which refuses such a type; its entity is
    // one the worker has not loaded, so it is found poison while folding, not while loading entities.
    const keys = campaignKeys(campaignId);
    const seq = await h.redis.incr(keys.seq);
    const meta = '{"sessionId":"x","batchId":"y","at":"2026-12-07T16:00:00.000Z"}';
    await h.redis.xadd(
      keys.events,
      `${seq}-0`,
      EVENT_FIELD,
      streamEventJson({ type: 'spell.cast', entityId: 'spell:s1', version: 1, data: {} }, meta),
    );

    const save = await h.request(campaignId, 'save', { sessionId }, 40_000);
    expect(save.body.error.code).toBe('UNAVAILABLE');
    const { letters, campaign } = await quarantine(campaignId);
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({ stream_id: `${seq}-0`, error: expect.stringMatching(/spell\.cast/) });
    expect(campaign).toEqual({ status: 'quarantined', checkpoint_seq: 1 });
  }, 60_000);

  it('drops a Redis copy that came back behind the Postgres checkpoint instead of continuing it', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    await h.request(campaignId, 'append', {
      sessionId,
      events: [gold('player:alice', 5), gold('player:alice', 5)],
    });
    expect((await h.request(campaignId, 'save', { sessionId })).body).toMatchObject({ seq: 2 });
    // Redis restarted from an older file: its seq is behind what Postgres has.
    await firstWorker.close();
    await h.redis.del(campaignKeys(campaignId).lease);
    await h.redis.set(campaignKeys(campaignId).seq, '1');
    await h.startWorker();
    await waitUntil(
      async () => (await h.redis.exists(campaignKeys(campaignId).session)) === 0,
      10_000,
      'the stale copy to go',
    );

    const refused = await h.request(campaignId, 'append', { sessionId, events: [gold('player:alice', 1)] });
    expect(refused.body.error.code).toBe('SESSION_NOT_FOUND');
    const again = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(again.body.seq).toBe(2);
    const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
    expect(alice.body.entity).toMatchObject({ version: 2, state: { gold: 20 } });
  });

  it('prunes flushes older than SYNC_LOG_KEEP_DAYS (7 by default) when it starts, keeping the last committed one', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const flush = {
      campaignId,
      fromSeq: 1,
      toSeq: 1,
      entitiesWritten: 1,
      entitiesDeleted: 0,
      eventsArchived: 1,
    };
    const ids: number[] = [];
    for (const daysAgo of [30, 20, 10]) {
      const id = await recordSync(h.db.db, { ...flush, durationMs: daysAgo, trigger: 'autosave' });
      await h.db.db
        .updateTable('sync_log')
        .set({ created_at: new Date(Date.now() - daysAgo * 86_400_000) })
        .where('id', '=', id)
        .execute();
      ids.push(id);
    }
    await h.startWorker();
    await waitUntil(
      async () => (await readSyncLog(h.db.db, campaignId)).length === 1,
      10_000,
      'the old flushes to go',
    );
    expect((await readSyncLog(h.db.db, campaignId)).map((entry) => entry.id)).toEqual([ids[2]]);
  });
});
