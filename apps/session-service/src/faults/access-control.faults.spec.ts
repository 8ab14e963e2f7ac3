import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import type { NatsConnection, NatsError } from 'nats';
import { LorekeeperClient, LorekeeperError } from '@lorekeeper/client';
import { tinyWorld } from '@lorekeeper/testing';
import { VERBS, durableSubject, eventsSubject, subjectFor } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  reportFigures,
  requestOver,
  serviceUrls,
  spawnService,
  startNatsWithConfig,
  uniqueCampaignId,
  waitUntil,
} from '@lorekeeper/testing';

const CONFIG = join(__dirname, '..', '..', '..', '..', 'deploy', 'nats', 'lorekeeper-auth.conf');
const TITLE = 'NATS permissions confine each game server to its own campaigns';

// Passwords with characters that need percent-encoding in a URL.
const passwords = {
  LOREKEEPER_NATS_PASSWORD: `svc/${randomBytes(9).toString('hex')}@:`,
  GS_ALPHA_NATS_PASSWORD: `alpha-${randomBytes(9).toString('hex')}`,
  GS_BETA_NATS_PASSWORD: `beta-${randomBytes(9).toString('hex')}`,
};
// Ids after the tenant convention (tenants.conf): the tenant's name, a dash, the rest.
const alphaId = uniqueCampaignId('alpha');
const betaId = uniqueCampaignId('beta');

let dir: string;
let natsServer: ServerProcess;
let db: TestDatabase;
let service: ServiceProcess;
let alpha: NatsConnection;
let beta: NatsConnection;
let redis: Redis;

beforeAll(async () => {
  // The deployed config as it is, with this test's campaigns in its tenants file.
  dir = mkdtempSync(join(tmpdir(), 'lk-nats-auth-'));
  copyFileSync(CONFIG, join(dir, 'lorekeeper-auth.conf'));
  writeFileSync(
    join(dir, 'tenants.conf'),
    [
      `ALPHA_REQUESTS: ["campaign.${alphaId}.>"]`,
      `ALPHA_SUBSCRIPTIONS: ["_INBOX.alpha.>", "campaign.${alphaId}.events"]`,
      `BETA_REQUESTS: ["campaign.${betaId}.>"]`,
      `BETA_SUBSCRIPTIONS: ["_INBOX.beta.>", "campaign.${betaId}.events"]`,
      '',
    ].join('\n'),
  );
  natsServer = await startNatsWithConfig(join(dir, 'lorekeeper-auth.conf'), passwords);
  db = await createTestDatabase('access_control');
  // The service user's credentials in NATS_URL, percent-encoded, as docs/deploy.md shows.
  const serviceUrl = new URL(natsServer.url);
  serviceUrl.username = 'lorekeeper';
  serviceUrl.password = encodeURIComponent(passwords.LOREKEEPER_NATS_PASSWORD);
  service = await spawnService('session-service', { DATABASE_URL: db.url, NATS_URL: serviceUrl.toString() });
  alpha = await connect({
    servers: natsServer.url,
    user: 'gs-alpha',
    pass: passwords.GS_ALPHA_NATS_PASSWORD,
    inboxPrefix: '_INBOX.alpha',
  });
  beta = await connect({
    servers: natsServer.url,
    user: 'gs-beta',
    pass: passwords.GS_BETA_NATS_PASSWORD,
    inboxPrefix: '_INBOX.beta',
  });
  redis = await connectRedis(serviceUrls().redisUrl);
}, 60_000);

afterAll(async () => {
  for (const id of [alphaId, betaId]) await deleteCampaignKeys(redis, id).catch(() => undefined);
  redis?.disconnect();
  await Promise.allSettled([alpha?.close(), beta?.close()]);
  await service?.stop();
  await natsServer?.stop();
  await db?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** The nats.js error a request fails with, or undefined when it got a reply. */
async function requestError(connection: NatsConnection, subject: string, body: unknown) {
  try {
    await connection.request(subject, JSON.stringify(body), { timeout: 2_000 });
    return undefined;
  } catch (error) {
    return error as NatsError;
  }
}

async function startCampaign(connection: NatsConnection, campaignId: string): Promise<string> {
  const created = await requestOver(connection, campaignId, 'create', { ...tinyWorld, campaignId });
  expect(created.body).toEqual({ campaignId, entities: tinyWorld.entities.length });
  const started = await requestOver(connection, campaignId, 'session.start', { playerIds: ['player:alice'] });
  expect(started.body.sessionId).toEqual(expect.any(String));
  return started.body.sessionId as string;
}

const gold = (delta: number) => ({ type: 'player.gold.changed', entityId: 'player:alice', data: { delta } });

describe('access control', () => {
  it(
    TITLE,
    async () => {
      // Each game server works on its own campaign through the service, which connected as its user.
      const alphaSession = await startCampaign(alpha, alphaId);
      const betaSession = await startCampaign(beta, betaId);
      const ownEvents: unknown[] = [];
      const ownSubscription = alpha.subscribe(eventsSubject(alphaId), {
        callback: (_e, m) => ownEvents.push(m.json()),
      });
      await alpha.flush();
      const appended = await requestOver(alpha, alphaId, 'append', {
        sessionId: alphaSession,
        events: [gold(2)],
      });
      expect(appended.body).toMatchObject({ seq: 1, results: [{ entityId: 'player:alice', version: 1 }] });
      const read = await requestOver(alpha, alphaId, 'entity.get', { entityId: 'player:alice' });
      expect(read.body.entity.state.gold).toBe(12);
      await waitUntil(() => ownEvents.length === 1, 5_000, 'alpha to hear its own append');

      // Every request of alpha to beta's campaign is refused by NATS itself, before any service sees it.
      const refusals: string[] = [];
      for (const verb of VERBS) {
        const subject = subjectFor(betaId, verb);
        const error = await requestError(alpha, subject, { sessionId: betaSession, events: [gold(1_000)] });
        expect(error?.code).toBe('PERMISSIONS_VIOLATION');
        // nats.js passes on the server's -ERR text, quotes included.
        expect(error?.message).toBe(`'Permissions Violation for Publish to "${subject}"'`);
        refusals.push(verb);
      }
      // Nor may a game server forge an events notification, even for its own campaign.
      const forged = await requestError(alpha, eventsSubject(alphaId), {
        campaignId: alphaId,
        seq: 99,
        events: [],
      });
      expect(forged?.code).toBe('PERMISSIONS_VIOLATION');
      // Nor a worker's flush notice, which a waiting append believes (it would reply durable: true).
      const notice = await requestError(alpha, durableSubject(alphaId), {
        campaignId: alphaId,
        seq: 99,
        checkpoint: 99,
      });
      expect(notice?.code).toBe('PERMISSIONS_VIOLATION');

      // Alpha cannot follow beta's campaign: the subscription is refused and hears nothing meanwhile.
      const leaked: string[] = [];
      const spy = alpha.subscribe(eventsSubject(betaId));
      const spyEnded = (async () => {
        try {
          for await (const message of spy) leaked.push(message.subject);
          return undefined;
        } catch (error) {
          return error as NatsError;
        }
      })();
      // Nor read beta's replies: another tenant's inbox prefix is refused too.
      const inboxSpy = alpha.subscribe('_INBOX.beta.>');
      const inboxSpyEnded = (async () => {
        try {
          for await (const message of inboxSpy) leaked.push(message.subject);
          return undefined;
        } catch (error) {
          return error as NatsError;
        }
      })();
      await alpha.flush();
      const betaEvents: unknown[] = [];
      beta.subscribe(eventsSubject(betaId), { callback: (_e, m) => betaEvents.push(m.json()) });
      await beta.flush();
      for (let i = 1; i <= 5; i += 1) {
        const reply = await requestOver(beta, betaId, 'append', {
          sessionId: betaSession,
          events: [gold(1)],
        });
        expect(reply.body.seq).toBe(i);
      }
      await waitUntil(() => betaEvents.length === 5, 5_000, 'beta to hear its five appends');
      await new Promise((resolve) => setTimeout(resolve, 300));
      const spyError = await spyEnded;
      const inboxSpyError = await inboxSpyEnded;
      expect(spyError?.code).toBe('PERMISSIONS_VIOLATION');
      expect(spyError?.message).toBe(
        `'Permissions Violation for Subscription to "${eventsSubject(betaId)}"'`,
      );
      expect(inboxSpyError?.code).toBe('PERMISSIONS_VIOLATION');
      expect(leaked).toEqual([]);

      // Beta's campaign saw only beta's requests.
      const betaAlice = await requestOver(beta, betaId, 'entity.get', { entityId: 'player:alice' });
      expect(betaAlice.body.entity).toMatchObject({ version: 5, state: { gold: 15 } });

      // A wrong password is refused at connect.
      const wrong = await connect({ servers: natsServer.url, user: 'gs-alpha', pass: 'guess' }).catch(
        (error: NatsError) => error,
      );
      expect((wrong as NatsError).code).toBe('AUTHORIZATION_VIOLATION');

      // The service's log names the NATS URL with the password masked, and never the password itself.
      const log = service.output();
      const passwordInLog = Object.values(passwords).some(
        (password) => log.includes(password) || log.includes(encodeURIComponent(password)),
      );
      expect(passwordInLog).toBe(false);
      expect(log).toContain('nats://lorekeeper:***@127.0.0.1');

      ownSubscription.unsubscribe();
      reportFigures(TITLE, {
        ownRequestsAnswered: 4,
        crossTenantRequestsRefused: refusals.length,
        crossTenantRequestError: 'PERMISSIONS_VIOLATION',
        forgedEventsRefused: forged?.code === 'PERMISSIONS_VIOLATION',
        foreignSubscriptionsRefused: [spyError, inboxSpyError].filter(
          (e) => e?.code === 'PERMISSIONS_VIOLATION',
        ).length,
        betaEventsWhileSpying: betaEvents.length,
        messagesLeakedToAlpha: leaked.length,
        wrongPasswordRefused: (wrong as NatsError).code === 'AUTHORIZATION_VIOLATION',
        passwordInServiceLog: passwordInLog,
      });
    },
    120_000,
  );

  it('the client library replies within the tenant’s inbox and fails a refused request at once', async () => {
    // One attempt, a timeout far longer than the test: a refusal must not wait for it.
    const client = new LorekeeperClient(alpha, { timeoutMs: 60_000, appendAttempts: 1 });
    const own = await client.getEntity(alphaId, 'player:alice');
    expect(own.id).toBe('player:alice');

    const started = performance.now();
    const refused = await client.getEntity(betaId, 'player:alice').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LorekeeperError);
    expect(refused).toMatchObject({
      code: 'UNAVAILABLE',
      message: `entity.get for campaign ${betaId}: Permissions Violation for Publish to "${subjectFor(betaId, 'entity.get')}"`,
    });
    expect(performance.now() - started).toBeLessThan(5_000);
    // The connection and the client go on working.
    expect((await client.getEntity(alphaId, 'player:alice')).id).toBe('player:alice');
  });
});
