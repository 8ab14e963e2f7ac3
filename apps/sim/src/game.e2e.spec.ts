import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import { LorekeeperClient } from '@lorekeeper/client';
import { fold, referenceRegistry } from '@lorekeeper/domain';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  entitiesById,
  generateWorld,
  seededRandom,
  spawnService,
  startPrivateNats,
  uniqueCampaignId,
} from '@lorekeeper/testing';
import { playGame } from './game';

let db: TestDatabase;
let natsServer: ServerProcess;
let services: ServiceProcess[];
let nats: NatsConnection;

beforeAll(async () => {
  db = await createTestDatabase('sim');
  natsServer = await startPrivateNats();
  const env = { DATABASE_URL: db.url, NATS_URL: natsServer.url };
  services = [await spawnService('session-service', env), await spawnService('persistence-worker', env)];
  nats = await connect({ servers: natsServer.url });
});
afterAll(async () => {
  await nats.close();
  for (const service of services) await service.stop();
  await natsServer.stop();
  await db.destroy();
});

describe('the simulated game against the real services', () => {
  it('plays two game servers on one campaign, and Postgres ends equal to the fold of what they played', async () => {
    const client = new LorekeeperClient(nats);
    const campaignId = uniqueCampaignId('sim');
    const world = generateWorld({
      campaignId,
      regions: 8,
      players: 8,
      npcs: 30,
      items: 40,
      quests: 20,
      seed: 21,
    });
    await client.createCampaign(world);
    const players = Array.from({ length: 8 }, (_, i) => `player:p${i}`);
    const { sessionId } = await client.startSession(campaignId, players);
    const initial = entitiesById(world);
    // Two game servers, each driving half of the players.
    const reports = await Promise.all(
      [0, 1].map((server) =>
        playGame(client, initial, {
          campaignId,
          sessionId,
          players: players.filter((_, i) => i % 2 === server),
          actionsPerSecond: 100,
          durationMs: 3_000,
          random: seededRandom(100 + server),
        }),
      ),
    );
    const played = reports.flatMap((report) => report.played).sort((a, b) => a.seq - b.seq);
    expect(played.map((event) => event.seq)).toEqual(played.map((_, i) => i + 1));
    const kinds = new Set(reports.flatMap((report) => Object.keys(report.actions)));
    expect([...kinds].sort()).toEqual(['dialogue', 'fight', 'gold', 'move', 'quest', 'trade', 'xp']);

    const saved = await client.save(campaignId, sessionId);
    expect(saved.seq).toBe(played.length);
    const expected = fold(initial, played);
    const persistent = [...expected.values()].filter(
      (entity) => referenceRegistry.kind(entity.kind)?.persistence === 'persistent',
    );
    const rows = await db.db
      .selectFrom('entities')
      .select(['id', 'kind', 'version', 'state'])
      .where('campaign_id', '=', campaignId)
      .execute();
    expect(new Map(rows.map((row) => [row.id, row]))).toEqual(
      new Map(persistent.map((entity) => [entity.id, entity])),
    );
  }, 60_000);
});
