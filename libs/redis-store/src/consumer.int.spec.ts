import { randomUUID } from 'node:crypto';
import { serviceUrls } from '@lorekeeper/testing';
import type { Redis } from 'ioredis';
import type { ReadEntry } from './consumer';
import { ensureGroup, readGroup } from './consumer';
import { connectRedis } from './connection';
import { loadFunctions } from './functions';
import { campaignKeys } from './keys';
import { EVENT_FIELD, readStreamRange, streamEventJson } from './stream';

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

  it('fails with NOGROUP when the stream and its group are gone (the worker then drops the campaign)', async () => {
    await expect(readGroup(redis, `gone-${randomUUID()}`, 'w1', '>', 10)).rejects.toThrow(/NOGROUP/);
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

    const [v2, v1, extra, broken, badVersion, twoFields] = await readGroup(redis, campaignId, 'w1', '>', 10);
    const expected = { ...event, meta };
    expect(v2).toMatchObject({ ok: true, event: { ...expected, seq: 1, streamId: '1-0' } });
    expect(v1).toMatchObject({ ok: true, event: { ...expected, seq: 2, streamId: '2-0' } });
    expect(v2?.ok && JSON.parse(v2.event.json ?? '')).toEqual(expected);
    expect(v1?.ok && v1.event.json).toBeUndefined();
    expect(extra).toMatchObject({ ok: true, event: { ...expected, seq: 3 } });
    expect(extra?.ok && extra.event.json).toBeUndefined();
    expect(broken).toMatchObject({ ok: false, trimmed: false, error: expect.stringMatching(/JSON/) });
    expect(badVersion).toMatchObject({ ok: false, error: expect.stringMatching(/version/) });
    // Neither layout: kept as its fields, for the dead letter.
    expect(twoFields).toMatchObject({ ok: false, trimmed: false, fields: [EVENT_FIELD, '{}', 'more', 'x'] });

    // What the CLI reads and prints carries no copy of the JSON.
    expect(Object.keys((await readStreamRange(redis, campaignId, 1, 1))[0] ?? {})).not.toContain('json');
  });
});
