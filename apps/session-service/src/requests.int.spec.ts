import { tinyWorld } from '@lorekeeper/testing';
import { startPrivateRedis, uniqueCampaignId } from '@lorekeeper/testing';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('requests');
});
afterAll(() => h.close());

describe('create', () => {
  it('writes the world to Postgres and counts its entities', async () => {
    const campaignId = uniqueCampaignId('create');
    const reply = await h.request(campaignId, 'create', { ...tinyWorld, campaignId });
    expect(reply.body).toEqual({ campaignId, entities: tinyWorld.entities.length });
    const rows = await h.db.db
      .selectFrom('entities')
      .select('id')
      .where('campaign_id', '=', campaignId)
      .execute();
    expect(rows.map((r) => r.id).sort()).toEqual(tinyWorld.entities.map((e) => e.id).sort());
  });

  it('refuses a campaign id that exists with CAMPAIGN_EXISTS', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const reply = await h.request(campaignId, 'create', { ...tinyWorld, campaignId });
    expect(reply.body.error.code).toBe('CAMPAIGN_EXISTS');
    expect(reply.statusHeader).toBe('409');
  });

  it('refuses a broken world whole, listing every problem', async () => {
    const campaignId = uniqueCampaignId('broken');
    const reply = await h.request(campaignId, 'create', {
      ...tinyWorld,
      campaignId,
      entities: [
        ...tinyWorld.entities,
        {
          id: 'player:alice',
          kind: 'player',
          version: 0,
          state: { name: 'Dup', regionId: 'region:vale', gold: 0, xp: 0 },
        },
        { id: 'dragon:x', kind: 'dragon', version: 0, state: {} },
        {
          id: 'item:lost',
          kind: 'item',
          version: 0,
          state: { name: 'Lost', ownerId: 'player:nobody', qty: 1 },
        },
      ],
    });
    expect(reply.body.error.code).toBe('BAD_REQUEST');
    expect(reply.body.error.details.problems).toHaveLength(3);
    const campaigns = await h.db.db
      .selectFrom('campaigns')
      .select('id')
      .where('id', '=', campaignId)
      .execute();
    expect(campaigns).toEqual([]);
  });

  it('refuses a document for another campaign than the subject names', async () => {
    const reply = await h.request(uniqueCampaignId('a'), 'create', {
      ...tinyWorld,
      campaignId: 'someone-else',
    });
    expect(reply.body.error).toMatchObject({
      code: 'BAD_REQUEST',
      message: expect.stringContaining('someone-else'),
    });
  });
});

describe('session.start', () => {
  it('answers CAMPAIGN_NOT_FOUND for a campaign that was never created', async () => {
    const reply = await h.request(uniqueCampaignId('missing'), 'session.start', {
      playerIds: ['player:alice'],
    });
    expect(reply.body.error.code).toBe('CAMPAIGN_NOT_FOUND');
    expect(reply.statusHeader).toBe('404');
  });

  it('answers UNKNOWN_ENTITY for a player the campaign does not have, and registers nothing', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const reply = await h.request(campaignId, 'session.start', { playerIds: ['player:alice', 'player:zed'] });
    expect(reply.body.error).toMatchObject({
      code: 'UNKNOWN_ENTITY',
      message: expect.stringContaining('player:zed'),
    });
    // The players are checked before the session is registered and anything is made live.
    expect(await h.redis.keys(`lk:{c:${campaignId}}:*`)).toEqual([]);
  });

  it('is idempotent: a second start joins the active session and loads the new players', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const first = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(first.body).toMatchObject({ seq: 0, loaded: { regions: ['region:hills', 'region:vale'] } });
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'npc:troll')).toBe(0);
    const second = await h.request(campaignId, 'session.start', { playerIds: ['player:bob'] });
    expect(second.body.sessionId).toBe(first.body.sessionId);
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'npc:troll')).toBe(1);
  });

  it('completes, on a retry, a start that registered and then failed half-way through its load', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const first = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    const live = await h.redis.hkeys(`lk:{c:${campaignId}}:entities`);
    // What a start lost in the middle of its load leaves: the session, and part of its live set.
    const lost = live.filter((_, i) => i % 2 === 0);
    await h.redis.hdel(`lk:{c:${campaignId}}:entities`, ...lost);
    await h.redis.hdel(`lk:{c:${campaignId}}:versions`, ...lost);
    const retry = await h.request(campaignId, 'session.start', { playerIds: ['player:alice'] });
    expect(retry.body.sessionId).toBe(first.body.sessionId);
    expect((await h.redis.hkeys(`lk:{c:${campaignId}}:entities`)).sort()).toEqual([...live].sort());
  });
});

describe('entity.get and entities.list', () => {
  let campaignId: string;
  let sessionId: string;

  beforeAll(async () => {
    campaignId = await h.createCampaign(tinyWorld);
    sessionId = await h.startSession(campaignId, ['player:alice']);
  });

  it('reads an entity that is not live from Postgres and makes it live', async () => {
    const reply = await h.request(campaignId, 'entity.get', { entityId: 'item:gem' });
    expect(reply.body).toEqual({
      entity: { id: 'item:gem', kind: 'item', version: 0, state: expect.any(Object) },
    });
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'item:gem')).toBe(1);
  });

  it('answers UNKNOWN_ENTITY for an id that exists nowhere', async () => {
    const reply = await h.request(campaignId, 'entity.get', { entityId: 'npc:nobody' });
    expect(reply.body.error.code).toBe('UNKNOWN_ENTITY');
  });

  it('does not resurrect a destroyed entity from Postgres', async () => {
    await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'item.destroyed', entityId: 'item:sword', data: {} }],
    });
    const reply = await h.request(campaignId, 'entity.get', { entityId: 'item:sword' });
    expect(reply.body.error.code).toBe('UNKNOWN_ENTITY');
  });

  it('lists live entities filtered by kind, region and owner', async () => {
    const npcs = await h.request(campaignId, 'entities.list', { kind: 'npc' });
    expect(npcs.body.entities.map((e: { id: string }) => e.id)).toEqual(['npc:goblin']);
    const inHills = await h.request(campaignId, 'entities.list', { regionId: 'region:hills' });
    expect(inHills.body.entities.map((e: { id: string }) => e.id)).toEqual([
      'item:coin',
      'npc:goblin',
      'worldEvent:fair',
    ]);
    const heldByGoblin = await h.request(campaignId, 'entities.list', { ownerId: 'npc:goblin' });
    expect(heldByGoblin.body.entities).toEqual([]);
  });

  it('makes the new neighbourhood live when a player moves', async () => {
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'npc:troll')).toBe(0);
    const moved = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:hills' } }],
    });
    expect(moved.body.results).toHaveLength(1);
    // region:far neighbours region:hills, so what stands there is now near alice.
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'npc:troll')).toBe(1);
    expect(await h.redis.hexists(`lk:{c:${campaignId}}:entities`, 'worldEvent:storm')).toBe(1);
  });

  it('refuses a request naming an unknown field', async () => {
    const reply = await h.request(campaignId, 'entities.list', { knd: 'npc' });
    expect(reply.body.error.code).toBe('BAD_REQUEST');
  });
});

describe('when Redis is unreachable', () => {
  it('answers UNAVAILABLE and stays up to answer the next request', async () => {
    const redis = await startPrivateRedis();
    const other = await startHarness('unavailable', { REDIS_URL: redis.url });
    try {
      const campaignId = await other.createCampaign(tinyWorld);
      const sessionId = await other.startSession(campaignId, ['player:alice']);
      await redis.stop();
      const reply = await other.request(campaignId, 'append', {
        sessionId,
        events: [{ type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 1 } }],
      });
      expect(reply.body.error.code).toBe('UNAVAILABLE');
      expect(reply.statusHeader).toBe('503');
      const next = await other.request(campaignId, 'entity.get', { entityId: 'player:alice' });
      expect(next.body.error.code).toBe('UNAVAILABLE');
    } finally {
      await other.close();
    }
  });
});

describe('operability', () => {
  it('serves /health/live, /health/ready and Prometheus metrics on its HTTP port', async () => {
    const base = `http://127.0.0.1:${h.service.httpPort}`;
    expect((await fetch(`${base}/health/live`)).status).toBe(200);
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok', checks: { redis: true, postgres: true, nats: true } });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/lorekeeper_requests_total\{verb="session.start",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/lorekeeper_requests_total\{verb="create",outcome="CAMPAIGN_EXISTS"\} 1/);
    expect(metrics).toContain('lorekeeper_append_duration_seconds_bucket');
  });

  it('counts appends validated against its LiveCache and those that had to read Redis first', async () => {
    const lookups = async () => {
      const text = await (await fetch(`http://127.0.0.1:${h.service.httpPort}/metrics`)).text();
      const count = (outcome: string) =>
        Number(
          new RegExp(`lorekeeper_live_cache_lookups_total\\{outcome="${outcome}"\\} (\\d+)`).exec(
            text,
          )?.[1] ?? 0,
        );
      return { hit: count('hit'), miss: count('miss') };
    };
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const append = async (event: object) =>
      expect(
        (await h.request(campaignId, 'append', { sessionId, events: [event] })).statusHeader,
      ).toBeUndefined();
    const gold = (entityId: string) => ({ type: 'player.gold.changed', entityId, data: { delta: 1 } });
    const before = await lookups();
    // The session start cached alice's neighbourhood: her appends validate without reading Redis.
    await append(gold('player:alice'));
    await append(gold('player:alice'));
    // Bob is two regions away, not loaded: his first append reads Redis (and Postgres), then he is cached.
    await append(gold('player:bob'));
    await append(gold('player:bob'));
    // A dialogue id nobody used yet is taken as absent without asking Redis (the commit checks it).
    await append({
      type: 'dialogue.started',
      entityId: 'dialogue:d1',
      data: { npcId: 'npc:goblin', playerId: 'player:alice' },
    });
    const after = await lookups();
    expect({ hit: after.hit - before.hit, miss: after.miss - before.miss }).toEqual({ hit: 4, miss: 1 });
  });
});
