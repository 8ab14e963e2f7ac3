import { tinyWorld } from '@lorekeeper/testing';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';
import { redisSnapshot } from './test/snapshot';

let h: Harness;
let campaignId: string;
let sessionId: string;

beforeAll(async () => {
  h = await startHarness('rejections');
  campaignId = await h.createCampaign(tinyWorld);
  sessionId = await h.startSession(campaignId, ['player:alice', 'player:bob']);
  // Some history, so "unchanged" means something.
  await h.request(campaignId, 'append', {
    sessionId,
    events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 5 } }],
  });
});
afterAll(() => h.close());

const ok = { type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 1 } };

/** Each case: what is sent, and the code and HTTP-like status it must get. */
const cases: [string, unknown, string, string][] = [
  ['malformed JSON', '{"sessionId": ', 'BAD_REQUEST', '400'],
  ['a body that is not an object', '[1, 2, 3]', 'BAD_REQUEST', '400'],
  ['a JSON string body', '"hello"', 'BAD_REQUEST', '400'],
  [
    'a field the request does not define',
    () => ({ sessionId, events: [ok], extra: 1 }),
    'BAD_REQUEST',
    '400',
  ],
  [
    'a __proto__ key in the body',
    () => `{"sessionId":"${sessionId}","events":[],"__proto__":{"x":1}}`,
    'BAD_REQUEST',
    '400',
  ],
  ['an empty batch', () => ({ sessionId, events: [] }), 'BAD_REQUEST', '400'],
  [
    'a batch of 10,001 events',
    () => ({ sessionId, events: Array.from({ length: 10_001 }, () => ok) }),
    'PAYLOAD_TOO_LARGE',
    '413',
  ],
  [
    'an event over the byte limit',
    () => ({
      sessionId,
      events: [
        ok,
        { type: 'world.flag.set', entityId: 'world', data: { key: 'big', value: 'x'.repeat(20_000) } },
      ],
    }),
    'PAYLOAD_TOO_LARGE',
    '413',
  ],
  [
    'an unknown event type',
    () => ({ sessionId, events: [ok, { type: 'player.flew', entityId: 'player:alice', data: {} }] }),
    'UNKNOWN_EVENT_TYPE',
    '400',
  ],
  [
    'a wrong-typed field',
    () => ({
      sessionId,
      events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta: '5' } }],
    }),
    'BAD_REQUEST',
    '400',
  ],
  [
    'a typo in an event field',
    () => ({
      sessionId,
      events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { detla: 5 } }],
    }),
    'BAD_REQUEST',
    '400',
  ],
  [
    'an event on an entity of the wrong kind',
    () => ({
      sessionId,
      events: [{ type: 'player.gold.changed', entityId: 'npc:goblin', data: { delta: 5 } }],
    }),
    'BAD_REQUEST',
    '400',
  ],
  [
    'a reference to a missing entity',
    () => ({
      sessionId,
      events: [ok, { type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:atlantis' } }],
    }),
    'UNKNOWN_ENTITY',
    '404',
  ],
  [
    'an event on a missing entity',
    () => ({
      sessionId,
      events: [{ type: 'player.xp.gained', entityId: 'player:ghost', data: { amount: 1 } }],
    }),
    'UNKNOWN_ENTITY',
    '404',
  ],
  [
    'gold going negative',
    () => ({
      sessionId,
      events: [ok, { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: -1_000 } }],
    }),
    'VALIDATION_FAILED',
    '422',
  ],
  [
    'moving an item the sender does not hold',
    () => ({
      sessionId,
      events: [
        ok,
        { type: 'item.moved', entityId: 'item:shield', data: { fromId: 'player:alice', toId: 'player:bob' } },
      ],
    }),
    'VALIDATION_FAILED',
    '422',
  ],
  [
    'a stale expectedVersion',
    () => ({ sessionId, events: [{ ...ok, expectedVersion: 0 }] }),
    'VERSION_CONFLICT',
    '409',
  ],
  ['an unknown session id', () => ({ sessionId: 'not-a-session', events: [ok] }), 'SESSION_NOT_FOUND', '404'],
];

describe('a rejected append', () => {
  it.each(cases)('answers %s with a coded error and changes nothing', async (_name, body, code, status) => {
    const before = await redisSnapshot(h.redis, campaignId);
    const reply = await h.request(campaignId, 'append', typeof body === 'function' ? body() : body);
    expect(reply.body).toEqual({ error: expect.objectContaining({ code, message: expect.any(String) }) });
    expect(Object.keys(reply.body)).toEqual(['error']);
    expect(reply.statusHeader).toBe(status);
    expect(reply.messageHeader).toBe(reply.body.error.message);
    expect(await redisSnapshot(h.redis, campaignId)).toEqual(before);
  });

  it('names the expected and the found values in the message', async () => {
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ ...ok, expectedVersion: 0 }],
    });
    expect(reply.body.error.message).toBe('player:alice expected version 0, found 1');
    expect(reply.body.error.details).toEqual({
      entityId: 'player:alice',
      expectedVersion: 0,
      actualVersion: 1,
    });
  });

  it('answers SESSION_CLOSING while the session is ending, and applies nothing', async () => {
    const sessionKey = `lk:{c:${campaignId}}:session`;
    await h.redis.hset(sessionKey, 'status', 'closing');
    try {
      const before = await redisSnapshot(h.redis, campaignId);
      const reply = await h.request(campaignId, 'append', { sessionId, events: [ok] });
      expect(reply.body.error.code).toBe('SESSION_CLOSING');
      expect(await redisSnapshot(h.redis, campaignId)).toEqual(before);
    } finally {
      await h.redis.hset(sessionKey, 'status', 'active');
    }
  });

  // Found by the fuzzer: a request just under NATS's max_payload whose error quotes it back (twice:
  // message and details) made a reply over the limit; nats.js threw from respond() and the process died.
  it('answers a request whose full error would exceed max_payload with a shortened one of the same code', async () => {
    const hugeKey = 'k'.repeat(600_000);
    const reply = await h.request(
      campaignId,
      'append',
      `{"sessionId":"${sessionId}","events":[${JSON.stringify(ok)}],"${hugeKey}":1}`,
    );
    expect(reply.body.error.code).toBe('BAD_REQUEST');
    expect(reply.body.error.message).toMatch(
      /\[shortened: the full reply of \d+ bytes is over NATS's max_payload/,
    );
    expect(reply.statusHeader).toBe('400');
  });

  it('keeps serving after every kind of bad request', async () => {
    const reply = await h.request(campaignId, 'append', { sessionId, events: [ok] });
    expect(reply.body.results).toHaveLength(1);
  });
});
