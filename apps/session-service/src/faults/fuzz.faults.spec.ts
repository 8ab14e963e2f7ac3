import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { connect, headers as natsHeaders } from 'nats';
import type { NatsConnection, Subscription } from 'nats';
import { tinyWorld } from '@lorekeeper/testing';
import type { Entity } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import {
  ACTIVE_CAMPAIGNS_KEY,
  campaignKeys,
  connectRedis,
  deleteCampaignKeys,
} from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createCampaignOver,
  createTestDatabase,
  reportFigures,
  requestOver,
  serviceUrls,
  spawnService,
  startPrivateNats,
  startSessionOver,
  uniqueCampaignId,
} from '@lorekeeper/testing';
import type { FuzzContext, FuzzMessage, GuardedCampaign } from '../test/fuzz/messages';
import { Rng } from '../test/fuzz/random';
import type { Verdict } from '../test/fuzz/replies';
import { judgeReply } from '../test/fuzz/replies';
import { FORGED_HEADER, generateMessage } from '../test/fuzz/requests';
import { redisSnapshot } from '../test/snapshot';

// FUZZ_SEED repeats a run; FUZZ_REQUESTS shortens one while debugging.
const SEED = Number(process.env['FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const TOTAL = Number(process.env['FUZZ_REQUESTS'] ?? 100_000);
const IN_FLIGHT = 128;
const REQUEST_TIMEOUT_MS = 10_000;
const PROBE_EVERY_MS = 2_000;
const PROBE_LIMIT_MS = 2_000;
const TITLE = 'the session service survives 100,000 hostile requests on every subject and changes nothing';
const SPECIAL_IDS = ['__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString', 'valueOf'];

let db: TestDatabase;
let natsServer: ServerProcess;
let service: ServiceProcess;
let nats: NatsConnection;
let probe: NatsConnection;
let redis: Redis;
const prefix = uniqueCampaignId('fuzz').slice(0, 24);
const guarded: GuardedCampaign[] = [];

beforeAll(async () => {
  process.stderr.write(`[fuzz] seed ${SEED} (repeat with FUZZ_SEED=${SEED})\n`);
  db = await createTestDatabase('fuzz');
  natsServer = await startPrivateNats();
  service = await spawnService('session-service', { DATABASE_URL: db.url, NATS_URL: natsServer.url });
  // Replies can be large (export of a made-up campaign, echoes of huge strings): plenty of pending room.
  nats = await connect({ servers: natsServer.url, name: 'fuzzer' });
  probe = await connect({ servers: natsServer.url, name: 'fuzz-probe' });
  redis = await connectRedis(serviceUrls().redisUrl);
}, 60_000);

afterAll(async () => {
  const mine = (await redis.smembers(ACTIVE_CAMPAIGNS_KEY)).filter(
    (id) => id.startsWith(prefix) || SPECIAL_IDS.includes(id),
  );
  for (const id of new Set([...guarded.map((g) => g.id), ...mine, ...SPECIAL_IDS])) {
    await deleteCampaignKeys(redis, id);
  }
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `lk:{c:${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
  redis.disconnect();
  await Promise.allSettled([nats?.close(), probe?.close()]);
  await service?.stop();
  await natsServer?.stop();
  await db?.destroy();
}, 60_000);

/** A campaign with a live session, some history and its whole world live, as the fuzzing finds it. */
async function guardCampaign(index: number): Promise<GuardedCampaign> {
  const id = await createCampaignOver(probe, tinyWorld, `${prefix}-g${index}`);
  const sessionId = await startSessionOver(probe, id, ['player:alice', 'player:bob']);
  const request = {
    sessionId,
    events: [
      { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 5 } },
      { type: 'player.xp.gained', entityId: 'player:bob', data: { amount: 3 } },
    ],
    idempotencyKey: `setup-${index}`,
  };
  const appended = await requestOver(probe, id, 'append', request);
  expect(appended.body.error).toBeUndefined();
  // Items held by NPCs are not in the live set; reading them makes them live, so reads change nothing later.
  for (const entityId of ['item:amulet', 'item:club'])
    await requestOver(probe, id, 'entity.get', { entityId });
  const listed = await requestOver(probe, id, 'entities.list', {});
  const entities = listed.body.entities as Entity[];
  expect(entities).toHaveLength(tinyWorld.entities.length);
  return {
    id,
    sessionId,
    entities: new Map(entities.map((e) => [e.id, e])),
    idempotent: { request, reply: appended.body },
  };
}

/** Everything of a guarded campaign that a request could change: Redis keys and Postgres rows. */
async function stateOf(campaign: GuardedCampaign) {
  const keys = campaignKeys(campaign.id);
  const [live, session, listed, rows, row] = await Promise.all([
    redisSnapshot(redis, campaign.id),
    redis.hgetall(keys.session),
    requestOver(probe, campaign.id, 'entities.list', {}),
    db.db.selectFrom('entities').selectAll().where('campaign_id', '=', campaign.id).orderBy('id').execute(),
    db.db.selectFrom('campaigns').selectAll().where('id', '=', campaign.id).executeTakeFirst(),
  ]);
  return { live, session, listed: listed.body as unknown, rows, row };
}

/** The process's resident set in MB, or NaN once it is gone. */
function rssMegabytes(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+)\s+kB/m);
    return line ? Number(line[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);

describe('hostile input', () => {
  it(
    TITLE,
    async () => {
      for (let i = 0; i < 3; i += 1) guarded.push(await guardCampaign(i));
      const before = await Promise.all(guarded.map(stateOf));

      // Nothing may be published for a guarded campaign: only a committed append publishes.
      let published = 0;
      const watchers: Subscription[] = guarded.map((campaign) =>
        probe.subscribe(`campaign.${campaign.id}.events`, {
          callback: (_error, message) => {
            if (!message.headers?.get(FORGED_HEADER)) published += 1;
          },
        }),
      );
      await probe.flush();

      const context: FuzzContext = { guarded, prefix, specialIds: SPECIAL_IDS, created: [] };
      const rng = new Rng(SEED);
      const pid = service.process.pid ?? 0;
      const outcomes = new Map<string, number>();
      const categories = new Map<string, number>();
      const problems: string[] = [];
      let problemCount = 0;
      let generated = 0;
      let sent = 0;
      let publishedOnly = 0;
      let timeouts = 0;
      let clientRefused = 0;
      const rss: { at: number; mb: number }[] = [{ at: 0, mb: rssMegabytes(pid) }];
      const probeMs: number[] = [];
      const count = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);

      const note = (index: number, message: FuzzMessage, verdict: Verdict) => {
        count(outcomes, verdict.outcome);
        if (!verdict.problem) return;
        problemCount += 1;
        if (problems.length < 20) {
          const payload =
            typeof message.payload === 'string'
              ? message.payload
              : Buffer.from(message.payload).toString('hex');
          problems.push(
            `#${index} ${message.category} on ${JSON.stringify(message.subject.slice(0, 120))}: ${verdict.problem}; ` +
              `payload ${JSON.stringify(payload.slice(0, 300))}`,
          );
        }
      };

      const send = async (index: number, message: FuzzMessage) => {
        count(categories, message.category);
        let options: { headers?: ReturnType<typeof natsHeaders> } = {};
        try {
          if (message.headers) {
            const h = natsHeaders();
            for (const [key, value] of message.headers) h.set(key, value);
            options = { headers: h };
          }
          if (message.publishOnly) {
            nats.publish(message.subject, message.payload, { ...options, ...message.publishOnly });
            publishedOnly += 1;
            sent += 1;
            return;
          }
        } catch (error) {
          clientRefused += 1;
          count(outcomes, `client refused: ${(error as { code?: string }).code ?? String(error)}`);
          return;
        }
        sent += 1;
        try {
          const reply = await nats.request(message.subject, message.payload, {
            ...options,
            timeout: REQUEST_TIMEOUT_MS,
          });
          note(index, message, judgeReply(message, reply));
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (code === '503') {
            note(index, message, {
              outcome: 'no responders',
              ...(message.expect.kind === 'nobody'
                ? {}
                : { problem: 'no session service answered: is it alive?' }),
            });
          } else if (code === 'TIMEOUT') {
            timeouts += 1;
            note(index, message, { outcome: 'timeout', problem: `no reply within ${REQUEST_TIMEOUT_MS} ms` });
          } else {
            // Refused by nats.js before sending (oversized payload, bad header): never reached the service.
            sent -= 1;
            clientRefused += 1;
            count(outcomes, `client refused: ${code ?? String(error)}`);
          }
        }
      };

      // The service must keep answering a valid request quickly all through the run.
      let probeFailure: string | undefined;
      const ticker = setInterval(() => {
        rss.push({ at: generated, mb: rssMegabytes(pid) });
        if (service.process.exitCode !== null || service.process.signalCode !== null)
          probeFailure ??= 'the service exited';
        const started = performance.now();
        const campaign = guarded[0] as GuardedCampaign;
        requestOver(probe, campaign.id, 'entity.get', { entityId: 'player:alice' }, PROBE_LIMIT_MS)
          .then((reply) => {
            probeMs.push(performance.now() - started);
            if (!isDeepStrictEqual(reply.body, { entity: campaign.entities.get('player:alice') })) {
              probeFailure ??= `probe got ${JSON.stringify(reply.body).slice(0, 200)}`;
            }
          })
          .catch((error: unknown) => (probeFailure ??= `probe failed: ${String(error)}`));
      }, PROBE_EVERY_MS);

      const started = performance.now();
      try {
        await Promise.all(
          Array.from({ length: IN_FLIGHT }, async () => {
            while (sent < TOTAL) {
              const index = generated;
              generated += 1;
              await send(index, generateMessage(rng, context));
            }
          }),
        );
        await nats.flush();
      } finally {
        clearInterval(ticker);
      }
      const seconds = (performance.now() - started) / 1_000;
      // Let the service work through what was published without a reply.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      rss.push({ at: generated, mb: rssMegabytes(pid) });

      // Still alive, still quick, still right.
      if (service.process.exitCode !== null || service.process.signalCode !== null) {
        process.stderr.write(
          `[fuzz] seed ${SEED}: the service died; its last words:\n${service.output().slice(-4_000)}\n`,
        );
      }
      expect(service.process.exitCode).toBeNull();
      const finalStart = performance.now();
      const finalProbe = await requestOver(
        probe,
        (guarded[0] as GuardedCampaign).id,
        'entity.get',
        { entityId: 'player:bob' },
        PROBE_LIMIT_MS,
      );
      const finalProbeMs = performance.now() - finalStart;
      expect(finalProbe.body).toEqual({ entity: (guarded[0] as GuardedCampaign).entities.get('player:bob') });

      // A fresh campaign still works end to end: the hostile keys polluted nothing the service uses.
      const freshId = await createCampaignOver(probe, tinyWorld, `${prefix}-after`);
      const freshSession = await startSessionOver(probe, freshId, ['player:alice']);
      const appended = await requestOver(probe, freshId, 'append', {
        sessionId: freshSession,
        events: [{ type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 1 } }],
      });
      expect(appended.body).toMatchObject({ seq: 1, results: [{ entityId: 'player:alice', version: 1 }] });
      const alice = await requestOver(probe, freshId, 'entity.get', { entityId: 'player:alice' });
      expect(alice.body).toEqual({
        entity: {
          id: 'player:alice',
          kind: 'player',
          version: 1,
          state: { name: 'Alice', regionId: 'region:vale', gold: 11, xp: 0 },
        },
      });
      await deleteCampaignKeys(redis, freshId);

      // The guarded campaigns are exactly as they were: Redis, Postgres, the live list, nothing published.
      watchers.forEach((watcher) => watcher.unsubscribe());
      const after = await Promise.all(guarded.map(stateOf));
      const entitiesWithForbiddenKeys = after
        .flatMap((state) => (state.listed as { entities: Entity[] }).entities)
        .filter((entity) =>
          ['__proto__', 'constructor', 'prototype'].some((key) => Object.hasOwn(entity.state as object, key)),
        ).length;

      // Memory: after a warm-up tenth, the last quarter of the samples against the first.
      const steady = rss.filter((sample) => sample.at >= TOTAL / 10);
      const quarter = Math.max(1, Math.floor(steady.length / 4));
      const firstQuarterMb = mean(steady.slice(0, quarter).map((s) => s.mb));
      const lastQuarterMb = mean(steady.slice(-quarter).map((s) => s.mb));

      const figures = {
        seed: SEED,
        requestsGenerated: generated,
        sentToNats: sent,
        publishedWithoutReply: publishedOnly,
        refusedByClient: clientRefused,
        timeouts,
        problems: problemCount,
        seconds: Math.round(seconds),
        requestsPerSecond: Math.round(generated / seconds),
        inFlight: IN_FLIGHT,
        createdCampaigns: context.created.length,
        probes: probeMs.length,
        probeMaxMs: Math.round(Math.max(0, ...probeMs)),
        finalProbeMs: Math.round(finalProbeMs),
        rssStartMb: Math.round(rss[0]?.mb ?? NaN),
        rssFirstQuarterMb: Math.round(firstQuarterMb),
        rssLastQuarterMb: Math.round(lastQuarterMb),
        rssEndMb: Math.round(rss[rss.length - 1]?.mb ?? NaN),
        rssMaxMb: Math.round(Math.max(...rss.map((s) => s.mb))),
        guardedEventsPublished: published,
        entitiesWithForbiddenKeys,
        ...Object.fromEntries([...outcomes].sort().map(([outcome, n]) => [`replies.${outcome}`, n])),
      };
      reportFigures(TITLE, figures);
      process.stderr.write(`[fuzz] categories ${JSON.stringify(Object.fromEntries(categories))}\n`);
      if (problems.length > 0)
        process.stderr.write(`[fuzz] seed ${SEED} problems:\n${problems.join('\n')}\n`);

      expect({ seed: SEED, problems }).toEqual({ seed: SEED, problems: [] });
      expect(probeFailure).toBeUndefined();
      expect(timeouts).toBe(0);
      expect(sent).toBeGreaterThanOrEqual(TOTAL);
      expect(after).toEqual(before);
      expect(published).toBe(0);
      expect(entitiesWithForbiddenKeys).toBe(0);
      expect(service.output()).not.toMatch(/"level":(50|60)/);
      // Flat: no more than 64 MB (or a third) above where the steady state started.
      expect(lastQuarterMb).toBeLessThan(Math.max(firstQuarterMb + 64, firstQuarterMb * 1.34));
    },
    900_000,
  );
});
