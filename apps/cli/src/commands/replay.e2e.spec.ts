import { connect } from 'nats';
import type { NatsConnection } from 'nats';
import type { CatalogueEvent } from '@lorekeeper/client';
import { LorekeeperClient } from '@lorekeeper/client';
import type { Entity } from '@lorekeeper/domain';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Redis } from '@lorekeeper/redis-store';
import { createSnapshot } from '@lorekeeper/pg-store';
import { campaignKeys, connectRedis, deleteCampaignKeys } from '@lorekeeper/redis-store';
import type { ServerProcess, ServiceProcess, TestDatabase } from '@lorekeeper/testing';
import {
  createTestDatabase,
  spawnService,
  startPrivateNats,
  tinyWorld,
  uniqueCampaignId,
} from '@lorekeeper/testing';
import { sql } from 'kysely';
import { runCli } from '../test/run-cli';

let db: TestDatabase;
let natsServer: ServerProcess;
let services: ServiceProcess[];
let nats: NatsConnection;
let redis: Redis;
let client: LorekeeperClient;
let env: Record<string, string>;

beforeAll(async () => {
  db = await createTestDatabase('replay');
  natsServer = await startPrivateNats();
  env = { DATABASE_URL: db.url, NATS_URL: natsServer.url };
  // A replay snapshot every few events (the history saves often): the answers below fold from the
  // worker's snapshots, which hold only what changed since the one before.
  const worker = { ...env, SNAPSHOT_EVERY_EVENTS: '8' };
  services = [await spawnService('session-service', env), await spawnService('persistence-worker', worker)];
  nats = await connect({ servers: natsServer.url });
  redis = await connectRedis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379');
  client = new LorekeeperClient(nats);
});
afterAll(async () => {
  await nats.close();
  for (const service of services) await service.stop();
  redis.disconnect();
  await natsServer.stop();
  await db.destroy();
});

const lorekeeper = (...args: string[]) => runCli(args, env);

/** The i-th event of a deterministic history on the tiny world: gold, xp, moves, items and dialogue. */
function historyEvent(i: number): CatalogueEvent[] {
  const player = i % 2 === 0 ? 'player:alice' : 'player:bob';
  switch (i % 5) {
    case 0:
      return [{ type: 'player.gold.changed', entityId: player, data: { delta: i + 1 } }];
    case 1:
      return [{ type: 'player.xp.gained', entityId: player, data: { amount: 10 * i + 1 } }];
    case 2:
      return [
        {
          type: 'player.moved',
          entityId: 'player:alice',
          data: { regionId: i % 4 === 2 ? 'region:hills' : 'region:vale' },
        },
      ];
    case 3:
      return [
        {
          type: 'item.moved',
          entityId: 'item:coin',
          data:
            i % 2 === 1
              ? { fromId: 'region:hills', toId: 'player:bob' }
              : { fromId: 'player:bob', toId: 'region:hills' },
        },
      ];
    default:
      return [
        {
          type: 'dialogue.started',
          entityId: `dialogue:d${i}`,
          data: { npcId: 'npc:goblin', playerId: player },
        },
        { type: 'dialogue.choice', entityId: `dialogue:d${i}`, data: { choiceId: 'greet' } },
      ];
  }
}

const persistentOnly = (entities: readonly Entity[]) =>
  entities
    .filter((e) => referenceRegistry.kind(e.kind)?.persistence === 'persistent')
    .sort((a, b) => a.id.localeCompare(b.id));

describe('lorekeeper state, diff and verify on a recorded history', () => {
  const campaignId = uniqueCampaignId('replay');
  let sessionId: string;
  /** The live state as the service answered it right after the append that ended at each seq. */
  const captured = new Map<number, readonly Entity[]>();
  let head = 0;

  beforeAll(async () => {
    await client.createCampaign({ ...tinyWorld, campaignId });
    ({ sessionId } = await client.startSession(campaignId, ['player:alice', 'player:bob']));
    const record = async (i: number) => {
      const reply = await client.append(campaignId, sessionId, historyEvent(i));
      head = reply.results[reply.results.length - 1]?.seq ?? head;
    };
    for (let i = 0; i < 40; i += 1) {
      await record(i);
      if (i === 7 || i === 19 || i === 33) captured.set(head, await client.listEntities(campaignId));
      // A flush, after which the worker takes a snapshot when one is due.
      if (i % 4 === 3) await client.save(campaignId, sessionId);
    }
    await client.save(campaignId, sessionId);
    // The worker copies a snapshot after a flush that finds one due and none under way: how many the
    // history above gets depends on how long each copy takes beside it. Record on, a flush per event,
    // until the chain holds four snapshots of what changed.
    const chained = db.db
      .selectFrom('snapshots')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('campaign_id', '=', campaignId)
      .where('complete', '=', true)
      .where('base_id', 'is not', null);
    const deadline = Date.now() + 20_000;
    for (let i = 40; Number((await chained.executeTakeFirstOrThrow()).count) < 4; i += 1) {
      if (Date.now() > deadline) throw new Error(`the worker took too few snapshots in ${i} events`);
      await record(i);
      await client.save(campaignId, sessionId);
    }
  });
  afterAll(async () => {
    await deleteCampaignKeys(redis, campaignId);
  });

  it('gives, at several points, exactly the state the service held then', async () => {
    expect(captured.size).toBe(3);
    const bases: string[] = [];
    for (const [seq, live] of captured) {
      const { code, stdout } = await lorekeeper('state', campaignId, '--at', String(seq), '--json');
      expect(code).toBe(0);
      const result = JSON.parse(stdout) as {
        seq: number;
        base: { name: string };
        entities: (Entity & { transient?: boolean })[];
      };
      expect(result.seq).toBe(seq);
      bases.push(result.base.name);
      // The session's live set is what the service can answer for; every one of them must match.
      const liveIds = new Set(live.map((e) => e.id));
      const replayed = persistentOnly(result.entities).filter((e) => liveIds.has(e.id));
      expect(replayed).toEqual(persistentOnly(live));
      // The open dialogues of the stream window come back, marked transient.
      const dialogues = result.entities.filter((e) => e.kind === 'dialogue');
      expect(dialogues.length).toBeGreaterThan(0);
      expect(dialogues.every((e) => e.transient === true)).toBe(true);
      const byId = (a: Entity, b: Entity) => a.id.localeCompare(b.id);
      expect(dialogues.map(({ transient: _, ...entity }) => entity).sort(byId)).toEqual(
        live.filter((e) => e.kind === 'dialogue').sort(byId),
      );
    }
    // The later points start from the worker's snapshots, laid over the created world's.
    expect(bases[0]).toMatch(/^(created|auto-\d+)$/);
    expect(bases.slice(1).every((name) => name.startsWith('auto-'))).toBe(true);
    const chained = await db.db
      .selectFrom('snapshots')
      .select('name')
      .where('campaign_id', '=', campaignId)
      .where('base_id', 'is not', null)
      .execute();
    expect(chained.map((row) => row.name)).toEqual(expect.arrayContaining(bases.slice(1)));
  });

  it('answers for one entity, by stream id and by time as well as by seq', async () => {
    const [seq, live] = [...captured.entries()][1] as [number, readonly Entity[]];
    const alice = live.find((e) => e.id === 'player:alice');
    const bySeq = await lorekeeper(
      'state',
      campaignId,
      '--at',
      `${seq}-0`,
      '--entity',
      'player:alice',
      '--format',
      'jsonl',
    );
    expect(JSON.parse(bySeq.stdout.trim())).toEqual(alice);
    const future = await lorekeeper('state', campaignId, '--at', '2999-01-01T00:00:00Z', '--json');
    expect((JSON.parse(future.stdout) as { seq: number }).seq).toBe(head);
    const past = await lorekeeper(
      'state',
      campaignId,
      '--at',
      '2000-01-01T00:00:00Z',
      '--json',
      '--no-redis',
    );
    const before = JSON.parse(past.stdout) as { seq: number; entities: Entity[] };
    expect(before.seq).toBe(0);
    expect(before.entities).toEqual(persistentOnly(tinyWorld.entities));
  });

  it('diffs two points: the entities that changed, field by field, and the events that did it', async () => {
    const [[from, before], [to, after]] = [...captured.entries()] as [
      [number, readonly Entity[]],
      [number, readonly Entity[]],
    ];
    const { code, stdout } = await lorekeeper(
      'diff',
      campaignId,
      '--from',
      String(from),
      '--to',
      String(to),
      '--json',
    );
    expect(code).toBe(0);
    const diff = JSON.parse(stdout) as {
      changes: {
        entityId: string;
        change: string;
        fields: { field: string; before: unknown; after: unknown }[];
        events: { seq: number }[];
      }[];
    };
    const persistentChanges = diff.changes.filter((c) => !c.entityId.startsWith('dialogue:'));
    const expected = persistentOnly(after).filter(
      (e) => JSON.stringify(e) !== JSON.stringify(before.find((b) => b.id === e.id)),
    );
    expect(persistentChanges.map((c) => c.entityId).sort()).toEqual(expected.map((e) => e.id).sort());
    const alice = persistentChanges.find((c) => c.entityId === 'player:alice');
    const aliceAfter = after.find((e) => e.id === 'player:alice') as Entity;
    expect(alice?.fields).toContainEqual(
      expect.objectContaining({ field: 'version', after: aliceAfter.version }),
    );
    expect(alice?.events.every((e) => e.seq > from && e.seq <= to)).toBe(true);
  });

  it('verifies a healthy campaign against Postgres and the live Redis', async () => {
    const { code, stdout } = await lorekeeper('verify', campaignId, '--json');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      postgres: { mismatches: unknown[]; seq: number };
      redis?: { seq: number };
    };
    expect(report.ok).toBe(true);
    expect(report.postgres.seq).toBe(head);
    expect(report.redis?.seq).toBe(head);
  });

  it('fails, naming the entity, when one entity is corrupted in Redis', async () => {
    const key = campaignKeys(campaignId).entities;
    const original = (await redis.hget(key, 'player:bob')) as string;
    const corrupt = JSON.parse(original) as Entity<{ gold: number }>;
    await redis.hset(
      key,
      'player:bob',
      JSON.stringify({ ...corrupt, state: { ...corrupt.state, gold: 999_999 } }),
    );
    try {
      const { code, stdout, stderr } = await lorekeeper('verify', campaignId);
      expect(code).toBe(1);
      expect(stdout).toContain('player:bob: differs in Redis');
      expect(stdout).toContain('state.gold: Redis has 999999');
      expect(stdout).toContain('MISMATCH');
      expect(stderr).toContain('does not verify');
    } finally {
      await redis.hset(key, 'player:bob', original);
    }
    expect((await lorekeeper('verify', campaignId)).code).toBe(0);
  });

  it('fails, naming the entity, when one row is corrupted in Postgres', async () => {
    await client.endSession(campaignId, sessionId);
    await sql`update entities set state = jsonb_set(state, '{xp}', '123456') where campaign_id = ${campaignId} and id = 'player:alice'`.execute(
      db.db,
    );
    const { code, stdout } = await lorekeeper('verify', campaignId, '--json');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      postgres: {
        mismatches: { entityId: string; problem: string; changes: { field: string; before: unknown }[] }[];
      };
    };
    expect(report.ok).toBe(false);
    expect(report.postgres.mismatches).toEqual([
      expect.objectContaining({
        entityId: 'player:alice',
        problem: 'different',
        changes: [expect.objectContaining({ field: 'state.xp', before: 123456 })],
      }),
    ]);
    // A snapshot taken now copies the corrupted row; verify folds from the created world, not from it.
    await createSnapshot(db.db, campaignId, 'after the corruption');
    const again = JSON.parse((await lorekeeper('verify', campaignId, '--json')).stdout) as typeof report;
    expect(again.ok).toBe(false);
    expect(again.postgres.mismatches.map((m) => m.entityId)).toEqual(['player:alice']);
  });

  it('treats a point that names nothing as a usage error (exit 2)', async () => {
    const { code, stderr } = await lorekeeper('state', campaignId, '--at', 'yesterday');
    expect(code).toBe(2);
    expect(stderr).toContain('--at yesterday: expected a seq');
  });
});
