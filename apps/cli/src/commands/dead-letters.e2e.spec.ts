import type { NatsConnection } from 'nats';
import { connect } from 'nats';
import { findCampaign, findEntity, listDeadLetters } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys, connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createCampaignOver,
  createTestDatabase,
  requestOver,
  serviceUrls,
  spawnService,
  startPrivateNats,
  startSessionOver,
  tinyWorld,
  waitUntil,
} from '@lorekeeper/testing';
import { runCli } from '../test/run-cli';

/** Build first: `npx tsc -b apps/cli apps/session-service apps/persistence-worker`. */
describe('a real worker and the dead-letters commands', () => {
  const { redisUrl } = serviceUrls();
  let test: TestDatabase;
  let natsServer: ServerProcess;
  let nats: NatsConnection;
  let redis: Redis;
  const services: ServiceProcess[] = [];
  let campaignId = '';

  const lorekeeper = (args: readonly string[]) =>
    runCli(args, { DATABASE_URL: test.url, REDIS_URL: redisUrl });

  const openLetters = async () => listDeadLetters(test.db, { campaignId, status: 'open' });

  beforeAll(async () => {
    test = await createTestDatabase('cli_dead_letters_e2e');
    natsServer = await startPrivateNats();
    redis = await connectRedis(redisUrl);
    const env = {
      DATABASE_URL: test.url,
      NATS_URL: natsServer.url,
      REDIS_URL: redisUrl,
      POISON_RETRIES: '2',
    };
    services.push(await spawnService('session-service', env));
    services.push(await spawnService('persistence-worker', env));
    nats = await connect({ servers: natsServer.url });
  });

  afterAll(async () => {
    for (const service of services) await service.stop();
    await nats.close();
    if (campaignId) await deleteCampaignKeys(redis, campaignId);
    redis.disconnect();
    await natsServer.stop();
    await test.destroy();
  });

  it('re-adopts a campaign after retry (quarantined again by the same poison), and moves past it after skip', async () => {
    campaignId = await createCampaignOver(nats, tinyWorld, 'cli-dl-e2e');
    const sessionId = await startSessionOver(nats, campaignId, ['player:alice']);
    const gold = (delta: number) => ({
      type: 'player.gold.changed',
      entityId: 'player:alice',
      data: { delta },
    });
    await requestOver(nats, campaignId, 'append', { sessionId, events: [gold(1)] });
    // An entry the session service would never write: it claims a version the entity cannot have.
    const keys = campaignKeys(campaignId);
    const poison = await redis.incr(keys.seq);
    await redis.xadd(
      keys.events,
      `${poison}-0`,
      'type',
      'player.gold.changed',
      'entityId',
      'player:alice',
      'version',
      '9',
      'data',
      '{"delta":1}',
      'meta',
      '{}',
    );

    await waitUntil(
      async () => (await findCampaign(test.db, campaignId))?.status === 'quarantined',
      20_000,
      'quarantine',
    );
    const [first] = await openLetters();
    expect(first).toMatchObject({ seq: poison, status: 'open' });

    const retried = await lorekeeper(['dead-letters', 'retry', campaignId, '--reason', 'try once more']);
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    // The worker notices the campaign is active again, folds the entry anew, and quarantines it again.
    await waitUntil(
      async () => (await openLetters()).some((l) => l.id !== first!.id),
      30_000,
      'a second quarantine',
    );
    expect(await findCampaign(test.db, campaignId)).toMatchObject({
      status: 'quarantined',
      checkpoint: { seq: 1 },
    });

    const skipped = await lorekeeper([
      'dead-letters',
      'skip',
      campaignId,
      '--seq',
      String(poison),
      '--reason',
      'forged entry',
      '--yes',
    ]);
    expect(skipped).toMatchObject({ code: 0, stderr: '' });
    expect(await openLetters()).toEqual([]);

    // The worker adopts the campaign at the new checkpoint and makes what follows durable.
    await requestOver(nats, campaignId, 'append', { sessionId, events: [gold(2)] });
    const saved = await requestOver(nats, campaignId, 'save', { sessionId }, 40_000);
    expect(saved.body).toMatchObject({ seq: poison + 1 });
    expect(await findCampaign(test.db, campaignId)).toMatchObject({
      status: 'active',
      checkpoint: { seq: poison + 1 },
    });
    expect(await findEntity(test.db, campaignId, 'player:alice')).toMatchObject({ version: 2 });
  }, 120_000);
});
