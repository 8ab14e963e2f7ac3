import { randomUUID } from 'node:crypto';
import { serviceUrls } from '@lorekeeper/testing';
import type { Redis } from 'ioredis';
import type { ReadEntry } from './consumer';
import { ensureGroup, readGroup } from './consumer';
import { connectRedis } from './connection';
import { loadFunctions } from './functions';
import { campaignKeys } from './keys';

// What the worker's consumer reads: new entries, its pending ones again after a restart, and pending
// entries whose message was trimmed.
describe('reading the stream as a consumer', () => {
  let redis: Redis;
  const campaignId = `consumer-${randomUUID()}`;
  const stream = campaignKeys(campaignId).events;

  const add = (seq: number, entityId: string, data: string) =>
    redis.xadd(
      stream,
      `${seq}-0`,
      'type',
      'player.gold.changed',
      'entityId',
      entityId,
      'version',
      String(seq),
      'data',
      data,
      'meta',
      `{"at":"2026-11-26T12:00:0${seq}.000Z"}`,
    );
  const summary = (entries: ReadEntry[]) =>
    entries.map((e) =>
      e.ok ? [e.streamId, e.event.entityId, e.event.data, e.bytes] : [e.streamId, e.error],
    );

  beforeAll(async () => {
    redis = await connectRedis(serviceUrls().redisUrl);
    await loadFunctions(redis);
  });
  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('decodes new entries, pending ones again, and trimmed pending ones as trimmed', async () => {
    await add(1, 'player:alice', '{"delta":1}');
    await add(2, 'player:bob', '{"delta":"two ✓"}');
    await add(3, 'player:carol', '{"delta":3');
    expect(await ensureGroup(redis, campaignId)).toBe(true);

    const read = await readGroup(redis, campaignId, 'w1', '>', 10);
    expect(summary(read)).toEqual([
      ['1-0', 'player:alice', { delta: 1 }, 103],
      ['2-0', 'player:bob', { delta: 'two ✓' }, 107],
      ['3-0', expect.stringMatching(/JSON/)],
    ]);
    expect(await readGroup(redis, campaignId, 'w1', '>', 10)).toEqual([]);
    expect(summary(await readGroup(redis, campaignId, 'w1', '0', 2))).toEqual(summary(read).slice(0, 2));

    await redis.xtrim(stream, 'MINID', '3-0');
    const pending = await readGroup(redis, campaignId, 'w1', '0', 10);
    expect(pending.map((e) => (e.ok ? e.streamId : [e.streamId, e.trimmed]))).toEqual([
      ['1-0', true],
      ['2-0', true],
      ['3-0', false],
    ]);
  });
});
