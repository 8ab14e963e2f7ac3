import { tinyWorld } from '@lorekeeper/testing';
import { deleteCampaignKeys } from '@lorekeeper/redis-store';
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
});
