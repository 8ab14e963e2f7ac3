import type { Entity } from '@lorekeeper/domain';
import { WORLD_FORMAT, parseWorldDocument, selectLiveSet } from '@lorekeeper/domain';
import { sql } from 'kysely';
import {
  LIVE_SET_FETCH_ROWS,
  insertCampaign,
  insertEntities,
  liveSetBatches,
  loadLiveSet,
  planLiveSet,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

/**
 * vale - forest - peaks form a chain; swamp stands alone. Alice is in the vale (near: vale, forest),
 * Bob on the peaks (near: peaks, forest), Carol in the swamp.
 */
const WORLD = parseWorldDocument({
  format: WORLD_FORMAT,
  campaignId: 'live',
  name: 'Live set',
  seq: 0,
  entities: [
    { id: 'world', kind: 'world', version: 0, state: { flags: {} } },
    e('region:vale', { name: 'Vale', neighbors: ['region:forest'] }),
    e('region:forest', { name: 'Forest', neighbors: ['region:vale', 'region:peaks'] }),
    e('region:peaks', { name: 'Peaks', neighbors: ['region:forest'] }),
    e('region:swamp', { name: 'Swamp', neighbors: [] }),
    e('player:alice', { name: 'Alice', regionId: 'region:vale', gold: 5, xp: 0 }),
    e('player:bob', { name: 'Bob', regionId: 'region:peaks', gold: 0, xp: 0 }),
    e('player:carol', { name: 'Carol', regionId: 'region:swamp', gold: 0, xp: 0 }),
    e('npc:vale-guard', { name: 'Guard', regionId: 'region:vale', hp: 10, status: 'alive' }),
    e('npc:forest-wolf', { name: 'Wolf', regionId: 'region:forest', hp: 4, status: 'defeated' }),
    e('npc:peaks-troll', { name: 'Troll', regionId: 'region:peaks', hp: 30, status: 'alive' }),
    e('npc:swamp-witch', { name: 'Witch', regionId: 'region:swamp', hp: 8, status: 'alive' }),
    e('item:alice-sword', { name: 'Sword', ownerId: 'player:alice', qty: 1 }),
    e('item:bob-shield', { name: 'Shield', ownerId: 'player:bob', qty: 1 }),
    e('item:vale-coin', { name: 'Coin', ownerId: 'region:vale', qty: 3 }),
    e('item:forest-herb', { name: 'Herb', ownerId: 'region:forest', qty: 2 }),
    e('item:peaks-gem', { name: 'Gem', ownerId: 'region:peaks', qty: 1 }),
    e('item:guard-key', { name: 'Key', ownerId: 'npc:vale-guard', qty: 1 }),
    e('quest:vale-rescue', {
      name: 'Rescue',
      regionId: 'region:vale',
      status: 'available',
      step: 0,
      playerId: null,
    }),
    e('quest:alice-far', {
      name: 'Far',
      regionId: 'region:swamp',
      status: 'active',
      step: 1,
      playerId: 'player:alice',
    }),
    e('quest:alice-done', {
      name: 'Done',
      regionId: 'region:swamp',
      status: 'completed',
      step: 3,
      playerId: 'player:alice',
    }),
    e('quest:bob-forest', {
      name: 'Bob here',
      regionId: 'region:forest',
      status: 'active',
      step: 1,
      playerId: 'player:bob',
    }),
    e('quest:carol-swamp', {
      name: 'Carol',
      regionId: 'region:swamp',
      status: 'active',
      step: 1,
      playerId: 'player:carol',
    }),
    e('quest:peaks-hunt', {
      name: 'Hunt',
      regionId: 'region:peaks',
      status: 'available',
      step: 0,
      playerId: null,
    }),
    e('worldEvent:forest-fair', { kind: 'fair', regionId: 'region:forest', status: 'active' }),
    e('worldEvent:swamp-storm', { kind: 'storm', regionId: 'region:swamp', status: 'active' }),
  ],
});

function e(id: string, state: object): unknown {
  return { id, kind: id.slice(0, id.indexOf(':')), version: 0, state };
}

const REGIONS = ['region:forest', 'region:peaks', 'region:swamp', 'region:vale'];

describe('loadLiveSet (selective loading)', () => {
  let test: TestDatabase;
  const byId = new Map<string, Entity>(WORLD.entities.map((entity) => [entity.id, entity]));

  beforeAll(async () => {
    test = await createTestDatabase('live-set');
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'live', name: 'Live set' });
      await insertEntities(trx, 'live', WORLD.entities);
      // A near-identical campaign next door must never leak into the answer.
      await insertCampaign(trx, { id: 'twin', name: 'Twin' });
      await insertEntities(trx, 'twin', [
        ...WORLD.entities,
        {
          id: 'item:twin-only',
          kind: 'item',
          version: 0,
          state: { name: 'T', ownerId: 'player:alice', qty: 1 },
        },
      ]);
    });
  });
  afterAll(async () => {
    await test.destroy();
  });

  const ids = (entities: readonly { id: string }[]) => entities.map((entity) => entity.id).sort();

  it("loads Alice's neighbourhood and nothing else", async () => {
    const live = await loadLiveSet(test.db, 'live', ['player:alice']);
    expect(ids(live.entities)).toEqual(
      [
        'world',
        ...REGIONS,
        'player:alice',
        'item:alice-sword', // hers
        'item:vale-coin', // on the ground in her region
        'item:forest-herb', // on the ground next door
        'npc:vale-guard',
        'npc:forest-wolf', // defeated still stands there
        'quest:vale-rescue', // available, in her region
        'quest:alice-far', // active and hers, though far away
        'quest:bob-forest', // someone else's, but in a near region
        'worldEvent:forest-fair',
      ].sort(),
    );
    expect(live.regions).toEqual(['region:forest', 'region:vale']);
    expect(live.missingPlayers).toEqual([]);
    // Returned as stored, not just by id: each entity's JSON parses back to it.
    for (const entity of live.entities) {
      expect(JSON.parse(entity.json)).toEqual(byId.get(entity.id));
      expect(entity).toMatchObject({ kind: byId.get(entity.id)?.kind, version: 0 });
    }
  });

  it('leaves out what is far, held by others, held by NPCs, or finished', async () => {
    const live = new Set(ids((await loadLiveSet(test.db, 'live', ['player:alice'])).entities));
    for (const absent of [
      'player:bob', // another player, even one whose region neighbours hers
      'player:carol',
      'item:bob-shield', // another player's item
      'item:peaks-gem', // on the ground two regions away
      'item:guard-key', // held by a near NPC: loaded on demand only
      'npc:peaks-troll',
      'npc:swamp-witch',
      'quest:alice-done', // hers but completed, and far
      'quest:carol-swamp',
      'quest:peaks-hunt',
      'worldEvent:swamp-storm',
      'item:twin-only', // another campaign's
    ]) {
      expect(live.has(absent)).toBe(false);
    }
  });

  it.each([
    [['player:alice']],
    [['player:bob']],
    [['player:carol']],
    [['player:alice', 'player:bob']],
    [['player:alice', 'player:bob', 'player:carol']],
    [[]],
  ])('agrees with the domain rule over the whole world for %j', async (players) => {
    const live = await loadLiveSet(test.db, 'live', players);
    expect(ids(live.entities)).toEqual([...selectLiveSet(byId, players)].sort());
  });

  it('loads only the world and every region when no player is named', async () => {
    const live = await loadLiveSet(test.db, 'live', []);
    expect(ids(live.entities)).toEqual(['world', ...REGIONS].sort());
    expect(live.regions).toEqual([]);
  });

  it('reports requested ids that are not players of the campaign, and loads for the rest', async () => {
    const live = await loadLiveSet(test.db, 'live', [
      'player:ghost',
      'player:bob',
      'npc:vale-guard',
      'player:bob',
    ]);
    expect(live.missingPlayers).toEqual(['player:ghost', 'npc:vale-guard']);
    expect(ids(live.entities)).toEqual([...selectLiveSet(byId, ['player:bob'])].sort());
    expect(live.regions).toEqual(['region:forest', 'region:peaks']);
  });

  it('uses the regions it is told players moved to, ahead of Postgres', async () => {
    const moved = new Map([['player:alice', 'region:peaks']]);
    const live = await loadLiveSet(test.db, 'live', ['player:alice'], undefined, moved);
    expect(live.regions).toEqual(['region:forest', 'region:peaks']);
    const alice = byId.get('player:alice')!;
    const afterMove = new Map(byId).set(alice.id, {
      ...alice,
      state: { ...(alice.state as object), regionId: 'region:peaks' },
    });
    expect(ids(live.entities)).toEqual([...selectLiveSet(afterMove, ['player:alice'])].sort());
    expect(ids(live.entities)).toContain('npc:peaks-troll');
    expect(ids(live.entities)).not.toContain('npc:vale-guard');
    // The entity itself is returned as Postgres has it; the caller holds the newer live state.
    expect(JSON.parse(live.entities.find((x) => x.id === 'player:alice')?.json ?? 'null')).toEqual(alice);
  });

  it('finds nothing in a campaign that does not exist', async () => {
    expect(await loadLiveSet(test.db, 'nowhere', ['player:alice'])).toEqual({
      entities: [],
      regions: [],
      missingPlayers: ['player:alice'],
    });
  });

  it('reads in batches of LIVE_SET_FETCH_ROWS through a cursor it closes, even when left early', async () => {
    const regions = Array.from({ length: LIVE_SET_FETCH_ROWS + 500 }, (_, i) => ({
      id: `region:r${i}`,
      kind: 'region',
      version: 2,
      state: { name: `R${i}`, neighbors: [] },
    }));
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'wide', name: 'Wide' });
      await insertEntities(trx, 'wide', regions);
    });
    await test.db.transaction().execute(async (trx) => {
      const plan = await planLiveSet(trx, 'wide', []);
      const sizes: number[] = [];
      for await (const batch of liveSetBatches(trx, 'wide', plan)) sizes.push(batch.length);
      expect(sizes).toEqual([LIVE_SET_FETCH_ROWS, 500]);
      // Left after the first batch: the cursor closes and the transaction goes on.
      for await (const batch of liveSetBatches(trx, 'wide', plan)) {
        expect(batch).toHaveLength(LIVE_SET_FETCH_ROWS);
        break;
      }
      const cursors = await sql<{ n: number }>`select count(*)::int as n from pg_cursors`.execute(trx);
      expect(cursors.rows[0]?.n).toBe(0);
    });
    const live = await loadLiveSet(test.db, 'wide', []);
    expect(live.entities).toHaveLength(regions.length);
    expect(JSON.parse(live.entities.find((e) => e.id === 'region:r2100')?.json ?? 'null')).toEqual(
      regions[2100],
    );
  });

  it('prints ids and states that need escaping as JSON that parses back to the entity', async () => {
    const odd: Entity[] = [
      {
        id: 'region:"quoted" \\ back\tslash',
        kind: 'region',
        version: 7,
        state: { name: 'Straße\n"Zoë" \u0001 ☃ 🐉', neighbors: [] },
      },
      { id: 'region:ünïcödé-☃-🐉', kind: 'region', version: 12, state: { name: '\u2028', neighbors: [] } },
    ];
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'odd', name: 'Odd' });
      await insertEntities(trx, 'odd', odd);
    });
    const live = await loadLiveSet(test.db, 'odd', []);
    expect(live.entities.map((entity) => [entity.id, entity.kind, entity.version])).toEqual(
      expect.arrayContaining(odd.map((entity) => [entity.id, entity.kind, entity.version])),
    );
    for (const entity of odd) {
      const loaded = live.entities.find((candidate) => candidate.id === entity.id);
      expect(JSON.parse(loaded?.json ?? 'null')).toEqual(entity);
    }
  });

  it('reads through a cursor only inside a transaction', async () => {
    const plan = await planLiveSet(test.db, 'live', ['player:alice']);
    await expect(liveSetBatches(test.db, 'live', plan).next()).rejects.toThrow(/pass a transaction/);
  });
});
