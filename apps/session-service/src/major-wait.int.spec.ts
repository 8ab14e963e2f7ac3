import { headers } from 'nats';
import { TIMEOUT_HEADER, subjectFor } from '@lorekeeper/protocol';
import { decodeReply, tinyWorld } from '@lorekeeper/testing';
import { deleteCampaignKeys, readHeadSeq } from '@lorekeeper/redis-store';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';

// No persistence worker runs in this file: a major event is never durable, and its reply waits for as
// long as DURABLE_WAIT_MS allows, unless the session goes.
let h: Harness;

beforeAll(async () => {
  h = await startHarness('major-wait', { DURABLE_WAIT_MS: '30000' });
});
afterAll(() => h.close());

describe('an append with a major event, waiting to be durable', () => {
  it('answers durable: false as soon as its session is gone from Redis, not after DURABLE_WAIT_MS', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    let answeredAt: number | undefined;
    const reply = h
      .request(
        campaignId,
        'append',
        {
          sessionId,
          events: [{ type: 'quest.completed', entityId: 'quest:relic', data: {} }],
        },
        40_000,
      )
      .finally(() => (answeredAt = Date.now()));
    // While the session lives, the wait goes on (this 1 s is well inside the 30 s allowed).
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(answeredAt).toBeUndefined();
    // Redis loses the campaign (FLUSHALL, a fresh instance): the batch went with it.
    const lostAt = Date.now();
    await deleteCampaignKeys(h.redis, campaignId);
    const { body, statusHeader } = await reply;
    expect(statusHeader).toBeUndefined();
    expect(body).toMatchObject({
      seq: 1,
      durable: false,
      results: [{ entityId: 'quest:relic', version: 1 }],
    });
    // Within a few session checks, not the 29 s left of the wait.
    expect(answeredAt! - lostAt).toBeLessThan(10_000);
    // The next append learns of the loss.
    const next = await h.request(campaignId, 'append', {
      sessionId,
      events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } }],
    });
    expect(next.body).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });
  });

  it("answers durable: false within the caller's timeout when the request names it", async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const sent = headers();
    sent.set(TIMEOUT_HEADER, '2000');
    // nats.js gives up after the 2 s the header names, far inside the 30 s DURABLE_WAIT_MS: the
    // reply has to come before then.
    const message = await h.nats.request(
      subjectFor(campaignId, 'append'),
      JSON.stringify({ sessionId, events: [{ type: 'quest.completed', entityId: 'quest:relic', data: {} }] }),
      { timeout: 2_000, headers: sent },
    );
    const { body, statusHeader } = decodeReply(message);
    expect(statusHeader).toBeUndefined();
    expect(body).toMatchObject({
      seq: 1,
      durable: false,
      results: [{ entityId: 'quest:relic', version: 1 }],
    });
  });

  it('refuses a timeout header that is not a number of milliseconds, and applies nothing', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    for (const value of ['0', '-5', '1.5', 'soon', '2147483648', '1e3']) {
      const sent = headers();
      sent.set(TIMEOUT_HEADER, value);
      const message = await h.nats.request(
        subjectFor(campaignId, 'append'),
        JSON.stringify({
          sessionId,
          events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } }],
        }),
        { timeout: 10_000, headers: sent },
      );
      const { body, statusHeader } = decodeReply(message);
      expect(statusHeader).toBe('400');
      expect(body.error).toMatchObject({ code: 'BAD_REQUEST', details: { header: TIMEOUT_HEADER } });
      expect(body.error.message).toContain(TIMEOUT_HEADER);
    }
    expect(await readHeadSeq(h.redis, campaignId)).toBe(0);
  });
});
