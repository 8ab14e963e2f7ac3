import { tinyWorld } from '@lorekeeper/testing';
import { readStreamRange } from '@lorekeeper/redis-store';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';
import { redisSnapshot } from './test/snapshot';

let h: Harness;
let campaignId: string;
let sessionId: string;

beforeAll(async () => {
  h = await startHarness('append', { DURABLE_WAIT_MS: '300' });
  campaignId = await h.createCampaign(tinyWorld);
  sessionId = await h.startSession(campaignId, ['player:alice']);
});
afterAll(() => h.close());

const gold = (delta: number) => ({ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } });

describe('append', () => {
  it('commits a batch, numbering events from seq 1 with per-entity versions', async () => {
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: [
        gold(5),
        gold(-3),
        { type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 7 } },
      ],
    });
    expect(reply.statusHeader).toBeUndefined();
    expect(reply.body).toEqual({
      seq: 3,
      results: [
        { id: '1-0', seq: 1, entityId: 'player:alice', version: 1 },
        { id: '2-0', seq: 2, entityId: 'player:alice', version: 2 },
        { id: '3-0', seq: 3, entityId: 'player:alice', version: 3 },
      ],
      durable: false,
    });
    const stream = await readStreamRange(h.redis, campaignId);
    expect(stream.map((e) => [e.seq, e.type, e.version])).toEqual([
      [1, 'player.gold.changed', 1],
      [2, 'player.gold.changed', 2],
      [3, 'player.xp.gained', 3],
    ]);
    expect(stream[0]?.meta.sessionId).toBe(sessionId);
    const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
    expect(alice.body.entity).toMatchObject({ version: 3, state: { gold: 12, xp: 7 } });
  });

  it('loads an entity that is not live from Postgres when an event targets it', async () => {
    // npc:troll stands in region:far, outside alice's neighbourhood, so it is not live yet.
    const before = await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'npc:troll');
    expect(before).toBe(0);
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'npc.damaged', entityId: 'npc:troll', data: { amount: 4 } }],
    });
    expect(reply.body.results[0]).toMatchObject({ entityId: 'npc:troll', version: 1 });
    const troll = await h.request(campaignId, 'entity.get', { entityId: 'npc:troll' });
    expect(troll.body.entity.state).toMatchObject({ hp: 26, status: 'alive' });
  });

  it('keeps transient entities under their own expiring keys', async () => {
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: [
        {
          type: 'combat.started',
          entityId: 'combat:c1',
          data: { regionId: 'region:vale', participantIds: ['player:alice', 'npc:goblin'] },
        },
        {
          type: 'combat.action',
          entityId: 'combat:c1',
          data: { actorId: 'player:alice', action: 'slash', amount: 3 },
        },
      ],
    });
    expect(reply.body.results.map((r: { version: number }) => r.version)).toEqual([1, 2]);
    const ttl = await h.redis.ttl(`lk:{c:${campaignId}}:t:combat:c1`);
    expect(ttl).toBeGreaterThan(0);
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'combat:c1')).toBe(0);
    const listed = await h.request(campaignId, 'entities.list', { kind: 'combat' });
    expect(listed.body.entities).toEqual([expect.objectContaining({ id: 'combat:c1', version: 2 })]);
  });

  it('answers a replayed idempotency key with the first reply and appends nothing', async () => {
    const body = { sessionId, idempotencyKey: 'retry-1', events: [gold(1)] };
    const first = await h.request(campaignId, 'append', body);
    const before = await redisSnapshot(h.redis, campaignId);
    const second = await h.request(campaignId, 'append', body);
    expect(second.body).toEqual(first.body);
    expect(await redisSnapshot(h.redis, campaignId)).toEqual(before);
  });

  it('publishes each committed batch on campaign.<id>.events', async () => {
    const subscription = h.nats.subscribe(`campaign.${campaignId}.events`, { max: 1 });
    const received = (async () => {
      for await (const message of subscription)
        return JSON.parse(new TextDecoder().decode(message.data)) as unknown;
      return undefined;
    })();
    await h.nats.flush();
    const reply = await h.request(campaignId, 'append', { sessionId, events: [gold(2)] });
    expect(await received).toMatchObject({
      campaignId,
      seq: reply.body.seq,
      events: [
        { type: 'player.gold.changed', entityId: 'player:alice', seq: reply.body.seq, data: { delta: 2 } },
      ],
    });
  });

  it('answers a major event with durable: false when Postgres cannot confirm in time', async () => {
    const started = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'quest.started', entityId: 'quest:rats', data: { playerId: 'player:alice' } }],
    });
    expect(started.body.durable).toBe(false);
    // No persistence worker runs in this file, so the checkpoint never moves: the bounded wait ends.
    const completed = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'quest.completed', entityId: 'quest:rats', data: {} }],
    });
    expect(completed.statusHeader).toBeUndefined();
    expect(completed.body).toMatchObject({
      durable: false,
      results: [{ entityId: 'quest:rats', version: 2 }],
    });
  });
});
