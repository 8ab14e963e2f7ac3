import { connect } from 'nats';
import type { NatsConnection, Subscription } from 'nats';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  spawnService,
  startPrivateNats,
  tinyWorld,
  uniqueCampaignId,
} from '@lorekeeper/testing';
import { LorekeeperClient, LorekeeperError } from './index';

let db: TestDatabase;
let natsServer: ServerProcess;
let services: ServiceProcess[];
let nats: NatsConnection;
let client: LorekeeperClient;

beforeAll(async () => {
  db = await createTestDatabase('client');
  natsServer = await startPrivateNats();
  const env = { DATABASE_URL: db.url, NATS_URL: natsServer.url, LEASE_MS: '2000' };
  services = [await spawnService('session-service', env), await spawnService('persistence-worker', env)];
  nats = await connect({ servers: natsServer.url });
  client = new LorekeeperClient(nats);
});
afterAll(async () => {
  await nats.close();
  for (const service of services) await service.stop();
  await natsServer.stop();
  await db.destroy();
});

async function newCampaign(): Promise<{ campaignId: string; sessionId: string }> {
  const campaignId = uniqueCampaignId('client');
  await client.createCampaign({ ...tinyWorld, campaignId });
  const { sessionId } = await client.startSession(campaignId, ['player:alice', 'player:bob']);
  return { campaignId, sessionId };
}

/** Every append request body sent to the campaign from now on, as the session service receives it. */
async function watchAppends(campaignId: string): Promise<{ seen: string[]; spy: Subscription }> {
  const seen: string[] = [];
  const spy = nats.subscribe(`campaign.${campaignId}.append`, {
    callback: (_error, message) => seen.push(new TextDecoder().decode(message.data)),
  });
  await nats.flush();
  return { seen, spy };
}

describe('LorekeeperClient', () => {
  it('drives a campaign through every request', async () => {
    const campaignId = uniqueCampaignId('client');
    expect(await client.createCampaign({ ...tinyWorld, campaignId })).toEqual({
      campaignId,
      entities: tinyWorld.entities.length,
    });
    const session = await client.startSession(campaignId, ['player:alice']);
    expect(session.loaded.regions).toEqual(['region:hills', 'region:vale']);
    const appended = await client.append(campaignId, session.sessionId, [
      { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 5 } },
      { type: 'item.moved', entityId: 'item:sword', data: { fromId: 'player:alice', toId: 'region:vale' } },
    ]);
    expect(appended).toMatchObject({ seq: 2, durable: false });
    expect(await client.getEntity(campaignId, 'player:alice')).toMatchObject({
      version: 1,
      state: { gold: 15 },
    });
    const onTheGround = await client.listEntities(campaignId, { ownerId: 'region:vale' });
    expect(onTheGround.map((e) => e.id)).toEqual(['item:sword']);
    expect(await client.save(campaignId, session.sessionId)).toEqual({ seq: 2, entitiesWritten: 2 });
    const exported = await client.export(campaignId);
    expect(exported.seq).toBe(2);
    expect(exported.entities.find((e) => e.id === 'item:sword')?.state).toMatchObject({
      ownerId: 'region:vale',
    });
    expect(await client.endSession(campaignId, session.sessionId)).toEqual({ seq: 2 });
  });

  it('surfaces every refusal as a LorekeeperError carrying the protocol code', async () => {
    const { campaignId, sessionId } = await newCampaign();
    const expectCode = async (promise: Promise<unknown>, code: string) => {
      const error: unknown = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(LorekeeperError);
      expect((error as LorekeeperError).code).toBe(code);
    };
    await expectCode(client.createCampaign({ ...tinyWorld, campaignId }), 'CAMPAIGN_EXISTS');
    await expectCode(client.startSession(uniqueCampaignId('none'), ['player:alice']), 'CAMPAIGN_NOT_FOUND');
    await expectCode(client.getEntity(campaignId, 'npc:nobody'), 'UNKNOWN_ENTITY');
    await expectCode(
      client.append(campaignId, sessionId, [
        { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: -999 } },
      ]),
      'VALIDATION_FAILED',
    );
    await expectCode(
      client.append(campaignId, sessionId, [
        { type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 1 }, expectedVersion: 7 },
      ]),
      'VERSION_CONFLICT',
    );
    await expectCode(
      client.append(campaignId, sessionId, [
        { type: 'player.gold.changed', entityId: 'player:alice', data: { detla: 1 } },
      ]),
      'BAD_REQUEST',
    );
    await expectCode(
      client.append(campaignId, sessionId, [{ type: 'player.sang', entityId: 'player:alice', data: {} }]),
      'UNKNOWN_EVENT_TYPE',
    );
    await expectCode(
      client.append(
        campaignId,
        sessionId,
        Array.from({ length: 10_001 }, () => ({
          type: 'player.xp.gained' as const,
          entityId: 'player:alice',
          data: { amount: 1 },
        })),
      ),
      'PAYLOAD_TOO_LARGE',
    );
    await expectCode(client.save(campaignId, 'not-the-session'), 'SESSION_NOT_FOUND');
  });

  it('retries a timed-out append with the same key: sent twice or more, applied once', async () => {
    const { campaignId, sessionId } = await newCampaign();
    const { seen, spy } = await watchAppends(campaignId);
    // The session service is paused for the first attempts, so they time out whatever its speed (a
    // cached append can answer within 1 ms); resumed, it applies the first and answers the rest by key,
    // and a later attempt, waiting longer, gets the reply.
    const session = services[0]!.process;
    session.kill('SIGSTOP');
    const resume = setTimeout(() => session.kill('SIGCONT'), 150);
    const impatient = new LorekeeperClient(nats, { timeoutMs: 1, appendAttempts: 12 });
    const reply = await impatient
      .append(campaignId, sessionId, [
        { type: 'player.gold.changed', entityId: 'player:alice', data: { delta: 3 } },
      ])
      .finally(() => {
        clearTimeout(resume);
        session.kill('SIGCONT');
      });
    spy.unsubscribe();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(
      new Set(seen.map((body) => (JSON.parse(body) as { idempotencyKey: string }).idempotencyKey)).size,
    ).toBe(1);
    expect(reply.results).toEqual([expect.objectContaining({ seq: 1, version: 1 })]);
    expect(await client.getEntity(campaignId, 'player:alice')).toMatchObject({
      version: 1,
      state: { gold: 13 },
    });
  });

  it('gets a major event durable: false within its timeout, in one attempt, while Postgres lags', async () => {
    const { campaignId, sessionId } = await newCampaign();
    const { seen, spy } = await watchAppends(campaignId);
    // The worker is paused: the completion cannot become durable within the service's DURABLE_WAIT_MS
    // (5 s, the default). The client tells the service its 1.5 s timeout, and the service answers
    // within it rather than after the client gave up and sent the append again.
    const worker = services[1]!.process;
    worker.kill('SIGSTOP');
    const patient = new LorekeeperClient(nats, { timeoutMs: 1_500, appendAttempts: 5 });
    const reply = await patient
      .append(campaignId, sessionId, [{ type: 'quest.completed', entityId: 'quest:relic', data: {} }])
      .finally(() => worker.kill('SIGCONT'));
    spy.unsubscribe();
    expect(reply).toMatchObject({ durable: false, results: [{ entityId: 'quest:relic', version: 1 }] });
    expect(seen).toHaveLength(1);
  });

  it('follows a campaign: every committed batch, in order', async () => {
    const { campaignId, sessionId } = await newCampaign();
    const followed = client.follow(campaignId);
    await nats.flush();
    for (let i = 1; i <= 5; i += 1) {
      await client.append(campaignId, sessionId, [
        { type: 'player.xp.gained', entityId: 'player:bob', data: { amount: i } },
      ]);
    }
    const received = [];
    for await (const batch of followed) {
      received.push(batch);
      if (received.length === 5) break;
    }
    expect(received.map((batch) => batch.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(received.map((batch) => batch.events[0]?.data)).toEqual(
      [1, 2, 3, 4, 5].map((amount) => ({ amount })),
    );
  });
});
