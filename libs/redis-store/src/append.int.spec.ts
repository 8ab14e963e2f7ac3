import { randomUUID } from 'node:crypto';
import { serviceUrls } from '@lorekeeper/testing';
import type { Redis } from 'ioredis';
import type { EntityWrite } from './append';
import { appendKeys, commitBatch } from './append';
import { connectRedis } from './connection';
import { callFunction, loadFunctions } from './functions';
import { campaignKeys } from './keys';
import { readStreamRange } from './stream';
import { registerSession } from './session';

// The append Function in every argument layout: lk_append_v3, which this version calls, and
// lk_append_v2 and lk_append, which session services of previous versions call while an upgrade rolls.
describe('committing a batch to the stream', () => {
  let redis: Redis;
  const campaignId = `append-${randomUUID()}`;
  const keys = campaignKeys(campaignId);
  const sessionId = randomUUID();
  const meta = { sessionId, batchId: 'b1', at: '2026-11-26T12:00:00.000Z' };
  const alice = { id: 'player:alice', kind: 'player', version: 2, state: { gold: 5 } };

  beforeAll(async () => {
    redis = await connectRedis(serviceUrls().redisUrl);
    await loadFunctions(redis);
    await registerSession(redis, campaignId, sessionId, 0, meta.at);
  });
  afterAll(async () => {
    await redis.del(...Object.values(keys).filter((key): key is string => typeof key === 'string'));
    redis.disconnect();
  });

  it('writes each event as one JSON field, and still takes the older five-slot call', async () => {
    const outcome = await commitBatch(redis, campaignId, {
      sessionId,
      idempotencyTtlSeconds: 60,
      replayRecord: '[]',
      transientTtlSeconds: 60,
      entities: [{ entityId: alice.id, transient: false, expectedToken: '', newToken: '2', entity: alice }],
      events: [
        { type: 'player.created', entityId: alice.id, version: 1, data: { name: 'Alice' }, meta },
        { type: 'player.gold.changed', entityId: alice.id, version: 2, data: { delta: 5 }, meta },
      ],
    });
    expect(outcome).toEqual({ kind: 'ok', firstSeq: 1 });

    // The older call: entity entries as before, then each event in five slots.
    const older = await callFunction(
      redis,
      'lk_append',
      appendKeys(campaignId),
      [
        sessionId,
        '',
        60,
        '[]',
        60,
        1,
        alice.id,
        0,
        '2',
        '3',
        JSON.stringify({ ...alice, version: 3 }),
      ].concat([1, 'player.gold.changed', alice.id, 3, '{"delta":1}', JSON.stringify(meta), 0]),
    );
    expect(older).toEqual(['ok', 3]);

    const entries = await redis.xrange(keys.events, '-', '+');
    expect(entries.map(([id, fields]) => [id, fields.filter((_, i) => i % 2 === 0)])).toEqual([
      ['1-0', ['event']],
      ['2-0', ['event']],
      ['3-0', ['type', 'entityId', 'version', 'data', 'meta']],
    ]);
    expect(await readStreamRange(redis, campaignId)).toEqual([
      {
        streamId: '1-0',
        seq: 1,
        type: 'player.created',
        entityId: alice.id,
        version: 1,
        data: { name: 'Alice' },
        meta,
      },
      {
        streamId: '2-0',
        seq: 2,
        type: 'player.gold.changed',
        entityId: alice.id,
        version: 2,
        data: { delta: 5 },
        meta,
      },
      {
        streamId: '3-0',
        seq: 3,
        type: 'player.gold.changed',
        entityId: alice.id,
        version: 3,
        data: { delta: 1 },
        meta,
      },
    ]);
    expect(await redis.hget(keys.versions, alice.id)).toBe('3');
  });

  it('checks and writes batches larger than one variadic call, all or nothing', async () => {
    const ids = Array.from({ length: 1_201 }, (_, i) => `player:p${i}`);
    const batch = (expected: (i: number) => string, version: number) => ({
      sessionId,
      idempotencyTtlSeconds: 60,
      replayRecord: '[]',
      transientTtlSeconds: 60,
      entities: ids.map((id, i) => ({
        entityId: id,
        transient: false,
        expectedToken: expected(i),
        newToken: String(version),
        entity: { id, kind: 'player', version, state: { gold: version } },
      })),
      events: ids.map((id) => ({
        type: 'player.gold.changed',
        entityId: id,
        version,
        data: { delta: 1 },
        meta,
      })),
    });
    const seqBefore = Number(await redis.get(keys.seq));

    expect(
      await commitBatch(
        redis,
        campaignId,
        batch(() => '', 1),
      ),
    ).toEqual({ kind: 'ok', firstSeq: seqBefore + 1 });
    expect(await redis.hlen(keys.versions)).toBe(1 + ids.length);
    expect(await redis.hget(keys.entities, 'player:p1200')).toBe(
      JSON.stringify({ id: 'player:p1200', kind: 'player', version: 1, state: { gold: 1 } }),
    );

    // One stale token, in the last HMGET: nothing of the batch is written.
    const stale = await commitBatch(
      redis,
      campaignId,
      batch((i) => (i === 1_150 ? '7' : '1'), 2),
    );
    expect(stale).toEqual({ kind: 'cas', entityId: 'player:p1150', found: '1' });
    expect(Number(await redis.get(keys.seq))).toBe(seqBefore + ids.length);
    expect(await redis.hget(keys.versions, 'player:p0')).toBe('1');
  });

  it('holds an entity validated against a prediction only when Redis has the predicted JSON, not just its token', async () => {
    // What the session service predicted for bob at version 2 (its own commit, which did not hold) and
    // what another instance wrote at version 2 instead.
    const bob = (version: number, gold: number) => ({
      id: 'player:bob',
      kind: 'player',
      version,
      state: { gold },
    });
    const duel = (version: number, round: number) => ({
      id: 'combat:duel',
      kind: 'combat',
      version,
      state: { round },
    });
    const commit = (entities: EntityWrite[]) =>
      commitBatch(redis, campaignId, {
        sessionId,
        idempotencyTtlSeconds: 60,
        replayRecord: '[]',
        transientTtlSeconds: 60,
        entities,
        events: entities.map((write) => ({
          type: 'test.changed',
          entityId: write.entityId,
          version: Number(write.newToken),
          data: {},
          meta,
        })),
      });
    const write = (entity: ReturnType<typeof bob> | ReturnType<typeof duel>, predicted?: object) => ({
      entityId: entity.id,
      transient: entity.kind === 'combat',
      expectedToken: String(entity.version - 1),
      newToken: String(entity.version),
      entity,
      ...(predicted ? { predictedJson: JSON.stringify(predicted) } : {}),
    });
    expect((await commit([{ ...write(bob(1, 0)), expectedToken: '' }])).kind).toBe('ok');
    expect((await commit([{ ...write(duel(1, 0)), expectedToken: '' }])).kind).toBe('ok');
    expect((await commit([write(bob(2, 100)), write(duel(2, 7))])).kind).toBe('ok');
    const seqBefore = Number(await redis.get(keys.seq));

    // Same tokens, other content: refused, nothing written.
    expect(await commit([write(bob(3, 3), bob(2, 2))])).toEqual({
      kind: 'cas',
      entityId: 'player:bob',
      found: '2',
    });
    expect(await commit([write(bob(3, 102)), write(duel(3, 1), duel(2, 0))])).toEqual({
      kind: 'cas',
      entityId: 'combat:duel',
      found: '2',
    });
    expect(Number(await redis.get(keys.seq))).toBe(seqBefore);
    expect(await redis.hget(keys.versions, 'player:bob')).toBe('2');

    // The content it predicted: it holds.
    expect(await commit([write(bob(3, 101), bob(2, 100)), write(duel(3, 8), duel(2, 7))])).toEqual({
      kind: 'ok',
      firstSeq: seqBefore + 1,
    });
    expect(await redis.hget(keys.entities, 'player:bob')).toBe(JSON.stringify(bob(3, 101)));
  });

  it("still takes the previous version's call, without predictions (lk_append_v2)", async () => {
    const carol = { id: 'player:carol', kind: 'player', version: 1, state: { gold: 1 } };
    const seqBefore = Number(await redis.get(keys.seq));
    const reply = await callFunction(
      redis,
      'lk_append_v2',
      appendKeys(campaignId),
      [sessionId, '', 60, '[]', 60, 1, carol.id, 0, '', '1', JSON.stringify(carol)].concat([
        1,
        JSON.stringify({ type: 'player.created', entityId: carol.id, version: 1, data: {}, meta }),
        0,
      ]),
    );
    expect(reply).toEqual(['ok', seqBefore + 1]);
    expect(await redis.hget(keys.entities, carol.id)).toBe(JSON.stringify(carol));
  });

  it('loads its own library again when one without lk_append_v3 was loaded (an older instance starting mid-upgrade)', async () => {
    const older =
      "#!lua name=lorekeeper\nredis.register_function('lk_append', function() return { 'ok', 0 } end)";
    await redis.call('FUNCTION', 'LOAD', 'REPLACE', older);
    const seqBefore = Number(await redis.get(keys.seq));

    const outcome = await commitBatch(redis, campaignId, {
      sessionId,
      idempotencyTtlSeconds: 60,
      replayRecord: '[]',
      transientTtlSeconds: 60,
      entities: [
        { entityId: 'player:p0', transient: false, expectedToken: '1', newToken: '1', entity: null },
      ],
      events: [{ type: 'world.flag.set', entityId: 'world', version: 1, data: { key: 'k', value: 1 }, meta }],
    });
    expect(outcome).toEqual({ kind: 'ok', firstSeq: seqBefore + 1 });
    const functions = JSON.stringify(await redis.call('FUNCTION', 'LIST', 'LIBRARYNAME', 'lorekeeper'));
    expect(functions).toContain('lk_append_v3');
    expect(functions).toContain('lk_session_start');
  });
});
