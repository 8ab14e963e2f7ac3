import { randomUUID } from 'node:crypto';
import { serviceUrls } from '@lorekeeper/testing';
import type { Redis } from 'ioredis';
import type { ReadEntry } from './consumer';
import { CONSUMER_GROUP, clearPending, ensureGroup, pendingCount, readGroup, readRange } from './consumer';
import { connectRedis } from './connection';
import { loadFunctions } from './functions';
import { campaignKeys } from './keys';
import { EVENT_FIELD, readStreamRange, streamEventJson } from './stream';

// What the worker's consumer reads: new entries through the group, which keeps no pending list of
// them, and entries again by range (what was handed out past the checkpoint before a restart).
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

  it('decodes new entries once, leaves nothing pending, and reads any range again', async () => {
    await add(1, 'player:alice', '{"delta":1}');
    await add(2, 'player:bob', '{"delta":"two ✓"}');
    await add(3, 'player:carol', '{"delta":3');
    expect(await ensureGroup(redis, campaignId)).toBe(true);

    const read = await readGroup(redis, campaignId, 'w1', 10);
    expect(summary(read)).toEqual([
      ['1-0', 'player:alice', { delta: 1 }, 103],
      ['2-0', 'player:bob', { delta: 'two ✓' }, 107],
      ['3-0', expect.stringMatching(/JSON/)],
    ]);
    // Handed out once, and not remembered as pending (NOACK): nothing to acknowledge after a flush.
    expect(await readGroup(redis, campaignId, 'w2', 10)).toEqual([]);
    expect(await pendingCount(redis, campaignId)).toBe(0);

    expect(summary(await readRange(redis, campaignId, 2, 3))).toEqual(summary(read).slice(1));
    expect(summary(await readRange(redis, campaignId, 1, 3, 2))).toEqual(summary(read).slice(0, 2));
  });

  it('acknowledges what a worker of an earlier version left pending', async () => {
    const leftover = `leftover-${randomUUID()}`;
    const key = campaignKeys(leftover).events;
    try {
      for (const seq of [1, 2, 3]) await redis.xadd(key, `${seq}-0`, EVENT_FIELD, '{}');
      expect(await ensureGroup(redis, leftover)).toBe(true);
      // An earlier worker read with acknowledgement and stopped before its flush.
      await redis.xreadgroup('GROUP', CONSUMER_GROUP, 'old-worker', 'COUNT', 10, 'STREAMS', key, '>');
      expect(await pendingCount(redis, leftover)).toBe(3);

      expect(await clearPending(redis, leftover, 'w1')).toBe(3);
      expect(await pendingCount(redis, leftover)).toBe(0);
      expect(await clearPending(redis, leftover, 'w1')).toBe(0);
    } finally {
      await redis.del(key);
    }
  });

  it('fails with NOGROUP when the stream and its group are gone (the worker then drops the campaign)', async () => {
    await expect(readGroup(redis, `gone-${randomUUID()}`, 'w1', 10)).rejects.toThrow(/NOGROUP/);
  });
});

// Layout 2 (one `event` field of JSON, as lk_append_v2 writes it) beside layout 1 in one stream: an
// upgrade leaves entries of both until the older ones are trimmed.
describe('reading both stream layouts', () => {
  let redis: Redis;
  const campaignId = `layouts-${randomUUID()}`;
  const stream = campaignKeys(campaignId).events;
  const meta = { sessionId: 's1', batchId: 'b1', at: '2026-11-26T12:00:00.000Z' };

  beforeAll(async () => {
    redis = await connectRedis(serviceUrls().redisUrl);
  });
  afterAll(async () => {
    await redis.del(stream);
    redis.disconnect();
  });

  it('decodes either layout to the same event, keeping the JSON only when it holds exactly the event', async () => {
    const event = { type: 'player.gold.changed', entityId: 'player:alice', version: 2, data: { delta: 5 } };
    await redis.xadd(stream, '1-0', EVENT_FIELD, streamEventJson(event, JSON.stringify(meta)));
    await redis.xadd(
      stream,
      '2-0',
      ...['type', event.type, 'entityId', event.entityId, 'version', '2', 'data', '{"delta":5}'],
      ...['meta', JSON.stringify(meta)],
    );
    await redis.xadd(stream, '3-0', EVENT_FIELD, JSON.stringify({ ...event, meta, extra: true }));
    await redis.xadd(stream, '4-0', EVENT_FIELD, '{"type":"player.gold.changed"');
    await redis.xadd(stream, '5-0', EVENT_FIELD, JSON.stringify({ ...event, version: '2', meta }));
    await redis.xadd(stream, '6-0', EVENT_FIELD, '{}', 'more', 'x');
    expect(await ensureGroup(redis, campaignId)).toBe(true);

    const [v2, v1, extra, broken, badVersion, twoFields] = await readGroup(redis, campaignId, 'w1', 10);
    const expected = { ...event, meta };
    expect(v2).toMatchObject({ ok: true, event: { ...expected, seq: 1, streamId: '1-0' } });
    expect(v1).toMatchObject({ ok: true, event: { ...expected, seq: 2, streamId: '2-0' } });
    expect(v2?.ok && JSON.parse(v2.event.json ?? '')).toEqual(expected);
    expect(v1?.ok && v1.event.json).toBeUndefined();
    expect(extra).toMatchObject({ ok: true, event: { ...expected, seq: 3 } });
    expect(extra?.ok && extra.event.json).toBeUndefined();
    expect(broken).toMatchObject({ ok: false, error: expect.stringMatching(/JSON/) });
    expect(badVersion).toMatchObject({ ok: false, error: expect.stringMatching(/version/) });
    // Neither layout: kept as its fields, for the dead letter.
    expect(twoFields).toMatchObject({ ok: false, fields: [EVENT_FIELD, '{}', 'more', 'x'] });

    // What the CLI reads and prints carries no copy of the JSON.
    expect(Object.keys((await readStreamRange(redis, campaignId, 1, 1))[0] ?? {})).not.toContain('json');
  });
});
