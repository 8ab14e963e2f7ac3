import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import type { NatsConnection } from 'nats';
import { readStreamRange } from '@lorekeeper/redis-store';
import { tinyWorld } from '@lorekeeper/testing';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';
import { decodeReply } from '@lorekeeper/testing';
import { startSessionService } from './service';
import type { SessionDeps } from './deps';
import { appendEvents } from './handlers/append';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('concurrency');
});
afterAll(() => h.close());

/** Another session-service instance in the same queue group, on the same Redis and database. */
function startSecondInstance() {
  return startSessionService(
    loadConfig({
      ...process.env,
      DATABASE_URL: h.db.url,
      NATS_URL: `nats://${h.nats.getServer()}`,
      SESSION_HTTP_PORT: '0',
    }),
    pino({ level: 'silent' }),
  );
}

/** Change alice's gold through one instance's handler: the version it made, or the error code. */
function changeGold(
  deps: SessionDeps,
  campaignId: string,
  sessionId: string,
  delta: number,
  idempotencyKey?: string,
) {
  return appendEvents(
    deps,
    campaignId,
    {
      sessionId,
      events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } }],
      ...(idempotencyKey ? { idempotencyKey } : {}),
    },
    randomUUID(),
  ).then(
    (reply) => reply.results[0]?.version,
    (error: unknown) => (error as { code?: string }).code,
  );
}

describe('concurrent appends', () => {
  it('lose no update when 50 clients change the same player at once, and use every version once', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const natsUrl = h.nats.getServer();
    const clients: NatsConnection[] = await Promise.all(
      Array.from({ length: 50 }, () => connect({ servers: `nats://${natsUrl}` })),
    );
    const perClient = 10;
    const deltas = clients.map((_, c) => Array.from({ length: perClient }, (_, i) => ((c * 7 + i) % 13) + 1));
    try {
      const replies = await Promise.all(
        clients.map(async (client, c) => {
          const results = [];
          for (const delta of deltas[c] ?? []) {
            const message = await client.request(
              `campaign.${campaignId}.append`,
              JSON.stringify({
                sessionId,
                events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } }],
              }),
              { timeout: 20_000 },
            );
            results.push(decodeReply(message).body);
          }
          return results;
        }),
      );
      const all = replies.flat();
      expect(all.filter((reply) => reply.error)).toEqual([]);
      const total = deltas.flat().reduce((sum, delta) => sum + delta, 0);
      const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
      expect(alice.body.entity.state.gold).toBe(10 + total);
      expect(alice.body.entity.version).toBe(50 * perClient);

      const versions = all.map((reply) => reply.results[0].version as number).sort((a, b) => a - b);
      expect(versions).toEqual(Array.from({ length: 50 * perClient }, (_, i) => i + 1));
      const stream = await readStreamRange(h.redis, campaignId);
      expect(stream.map((event) => event.version)).toEqual(versions);
      expect(stream.map((event) => event.seq)).toEqual(versions);
    } finally {
      await Promise.all(clients.map((client) => client.close()));
    }
  });

  it('serialises appends from two service instances through the compare-and-set', async () => {
    const second = await startSecondInstance();
    try {
      const campaignId = await h.createCampaign(tinyWorld);
      const sessionId = await h.startSession(campaignId, ['player:alice']);
      const replies = await Promise.all(
        Array.from({ length: 200 }, () =>
          h.request(campaignId, 'append', {
            sessionId,
            events: [{ type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 1 } }],
          }),
        ),
      );
      const failures = replies.filter((reply) => reply.body.error);
      // Under heavy cross-instance contention a batch may exhaust its retries; it then applied nothing.
      expect(failures.every((reply) => reply.body.error.code === 'UNAVAILABLE')).toBe(true);
      const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
      expect(alice.body.entity.state.xp).toBe(200 - failures.length);
      expect(alice.body.entity.version).toBe(200 - failures.length);
    } finally {
      await second.close();
    }
  });

  it('decides every append on the current state, whatever another instance changed since it last looked', async () => {
    const second = await startSecondInstance();
    try {
      const campaignId = await h.createCampaign(tinyWorld);
      const sessionId = await h.startSession(campaignId, ['player:alice']);
      const first = h.service.deps;
      const spend = (deps: SessionDeps, delta: number) => changeGold(deps, campaignId, sessionId, delta);

      // Alice has 10 gold. The first instance sees her at 9; the second spends the rest.
      expect(await spend(first, -1)).toBe(1);
      expect(first.liveCache.entities).toBeGreaterThan(0);
      expect(await spend(second.deps, -9)).toBe(2);
      // The first instance remembers 9 gold, but 0 is what she has: refused, nothing applied.
      expect(await spend(first, -5)).toBe('VALIDATION_FAILED');
      // And the other way round: it now remembers 0, the second gives her 20, so spending 5 is fine.
      expect(await spend(second.deps, 20)).toBe(3);
      expect(await spend(first, -5)).toBe(4);

      const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
      expect(alice.body.entity).toMatchObject({ version: 4, state: { gold: 15 } });
      const stream = await readStreamRange(h.redis, campaignId);
      expect(stream.map((event) => event.version)).toEqual([1, 2, 3, 4]);
    } finally {
      await second.close();
    }
  });

  it('prepares again an append validated against a commit in flight that did not hold, though another instance reached the same version', async () => {
    const second = await startSecondInstance();
    try {
      const campaignId = await h.createCampaign(tinyWorld);
      const sessionId = await h.startSession(campaignId, ['player:alice']);
      const first = h.service.deps;
      const gain = (deps: SessionDeps, delta: number) => changeGold(deps, campaignId, sessionId, delta);

      // Alice has 10 gold. The first instance sees her at 11 (version 1); the second makes it 111.
      expect(await gain(first, 1)).toBe(1);
      expect(await gain(second.deps, 100)).toBe(2);
      // Redis holds the first instance's next two commits until both are sent: the first is validated
      // against its stale cache (version 2 would be 12 gold) and the second against that prediction
      // (version 3, 14 gold). The first loses its compare-and-set. The second's token matches (Redis
      // is at version 2 too) but not the content it was predicted from: it must not hold either.
      await h.redis.call('CLIENT', 'PAUSE', '500', 'ALL');
      expect(await Promise.all([gain(first, 1), gain(first, 2)])).toEqual([3, 4]);

      const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
      expect(alice.body.entity).toMatchObject({ version: 4, state: { gold: 114 } });
      const stream = await readStreamRange(h.redis, campaignId);
      expect(stream.map((event) => (event.data as { delta: number }).delta)).toEqual([1, 100, 1, 2]);
    } finally {
      await second.close();
    }
  });

  it('applies a retried keyed append once, and the append sent behind its retry once, on the state Redis holds', async () => {
    const campaignId = await h.createCampaign(tinyWorld);
    const sessionId = await h.startSession(campaignId, ['player:alice']);
    const gain = (delta: number, key?: string) =>
      changeGold(h.service.deps, campaignId, sessionId, delta, key);
    expect(await gain(10)).toBe(1);
    // All three are sent before Redis answers any: the retry is validated against the first's
    // prediction and answered with the first's reply, writing nothing; the third, validated against
    // the retry's prediction, must then apply once on what Redis holds, not on that prediction.
    await h.redis.call('CLIENT', 'PAUSE', '500', 'ALL');
    expect(await Promise.all([gain(1, 'k1'), gain(1, 'k1'), gain(5)])).toEqual([2, 2, 3]);

    const alice = await h.request(campaignId, 'entity.get', { entityId: 'player:alice' });
    expect(alice.body.entity).toMatchObject({ version: 3, state: { gold: 26 } });
    const stream = await readStreamRange(h.redis, campaignId);
    expect(stream.map((event) => (event.data as { delta: number }).delta)).toEqual([10, 1, 5]);
  });

  it('refuses a fight or dialogue id another instance already started, though its cache took it as new', async () => {
    const second = await startSecondInstance();
    try {
      const campaignId = await h.createCampaign(tinyWorld);
      const sessionId = await h.startSession(campaignId, ['player:alice']);
      const start = (deps: SessionDeps) =>
        appendEvents(
          deps,
          campaignId,
          {
            sessionId,
            events: [
              {
                type: 'dialogue.started',
                entityId: 'dialogue:d1',
                data: { npcId: 'npc:goblin', playerId: 'player:alice' },
              },
            ],
          },
          randomUUID(),
        ).then(
          (reply) => reply.results[0]?.version,
          (error: unknown) => (error as { code?: string }).code,
        );
      expect(await start(second.deps)).toBe(1);
      // The first instance has not seen dialogue:d1: it guesses absent, the commit finds it, Redis decides.
      expect(await start(h.service.deps)).toBe('VALIDATION_FAILED');
      const stream = await readStreamRange(h.redis, campaignId);
      expect(stream.map((event) => [event.type, event.entityId, event.version])).toEqual([
        ['dialogue.started', 'dialogue:d1', 1],
      ]);
    } finally {
      await second.close();
    }
  });
});
