import { randomUUID } from 'node:crypto';
import type { Entity } from '@lorekeeper/domain';
import { encodeEntity } from '@lorekeeper/domain';
import { serviceUrls } from '@lorekeeper/testing';
import type { Redis } from 'ioredis';
import { connectRedis } from './connection';
import { callFunction, loadFunctions } from './functions';
import { campaignKeys } from './keys';
import { deleteCampaignKeys, loadLiveEntities, registerSession } from './session';
import { tombstoneToken } from './tokens';

// lk_load, through loadLiveEntities: what a session start makes live from Postgres.
describe('making durable entities live', () => {
  let redis: Redis;

  beforeAll(async () => {
    redis = await connectRedis(serviceUrls().redisUrl);
    await loadFunctions(redis);
  });
  afterAll(() => redis.disconnect());

  async function withSession(run: (campaignId: string, sessionId: string) => Promise<void>): Promise<void> {
    const campaignId = `load-${randomUUID()}`;
    const sessionId = randomUUID();
    await registerSession(redis, campaignId, sessionId, 0, '2026-11-26T12:00:00.000Z');
    try {
      await run(campaignId, sessionId);
    } finally {
      await deleteCampaignKeys(redis, campaignId);
    }
  }

  const region = (i: number, version = 1): Entity => ({
    id: `region:r${i}`,
    kind: 'region',
    version,
    state: { name: `Region "${i}"`, neighbors: [] },
  });

  it('writes every entity and its version, across more entities than one variadic command takes', async () => {
    await withSession(async (campaignId, sessionId) => {
      const keys = campaignKeys(campaignId);
      const entities = Array.from({ length: 1_201 }, (_, i) => region(i, 1 + (i % 3)));
      // One call with all of them: the Function splits them into commands of 500 itself.
      const args = [sessionId, ...entities.flatMap((e) => [e.id, e.version, JSON.stringify(e)])];
      const loaded = await callFunction(redis, 'lk_load', [keys.session, keys.versions, keys.entities], args);
      expect(loaded).toBe(1_201);
      expect(await redis.hlen(keys.entities)).toBe(1_201);
      expect(await redis.hget(keys.versions, 'region:r1000')).toBe(String(1 + (1000 % 3)));
      expect(JSON.parse((await redis.hget(keys.entities, 'region:r1200')) ?? 'null')).toEqual(
        region(1200, 1),
      );
      // Through the client, in its chunks: all of them live already, none written again.
      expect(await loadLiveEntities(redis, campaignId, sessionId, entities.map(encodeEntity))).toBe(0);
    });
  });

  it('never overwrites an entity already live or tombstoned: Redis may be newer than Postgres', async () => {
    await withSession(async (campaignId, sessionId) => {
      const keys = campaignKeys(campaignId);
      const newer = region(1, 7);
      await redis.hset(keys.versions, newer.id, '7');
      await redis.hset(keys.entities, newer.id, JSON.stringify(newer));
      await redis.hset(keys.versions, 'region:r2', tombstoneToken(4));

      const loaded = await loadLiveEntities(
        redis,
        campaignId,
        sessionId,
        [region(0), region(1), region(2), region(3)].map(encodeEntity),
      );

      expect(loaded).toBe(2);
      expect(await redis.hmget(keys.versions, 'region:r0', 'region:r1', 'region:r2', 'region:r3')).toEqual([
        '1',
        '7',
        'd4',
        '1',
      ]);
      expect(JSON.parse((await redis.hget(keys.entities, newer.id)) ?? 'null')).toEqual(newer);
      expect(await redis.hexists(keys.entities, 'region:r2')).toBe(0);
    });
  });

  it('writes an id given twice once, the first copy', async () => {
    await withSession(async (campaignId, sessionId) => {
      const loaded = await loadLiveEntities(
        redis,
        campaignId,
        sessionId,
        [region(5, 1), region(5, 2)].map(encodeEntity),
      );
      expect(loaded).toBe(1);
      expect(await redis.hget(campaignKeys(campaignId).versions, 'region:r5')).toBe('1');
    });
  });

  it('writes nothing for a session that is not the active one', async () => {
    await withSession(async (campaignId) => {
      expect(await loadLiveEntities(redis, campaignId, randomUUID(), [encodeEntity(region(0))])).toBe(-1);
      expect(await redis.exists(campaignKeys(campaignId).entities)).toBe(0);
    });
  });
});
