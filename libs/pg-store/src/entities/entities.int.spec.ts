import type { Entity } from '@lorekeeper/domain';
import {
  deleteEntities,
  findEntities,
  findEntity,
  insertCampaign,
  insertEntities,
  streamEntities,
  upsertEntities,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';
import { sql } from 'kysely';

const region = (name: string, neighbors: string[] = []): Entity => ({
  id: `region:${name}`,
  kind: 'region',
  version: 0,
  state: { name, neighbors },
});
const player = (name: string, regionId: string, gold = 0): Entity => ({
  id: `player:${name}`,
  kind: 'player',
  version: 0,
  state: { name, regionId, gold, xp: 0 },
});
const item = (name: string, ownerId: string, version = 0): Entity => ({
  id: `item:${name}`,
  kind: 'item',
  version,
  state: { name, ownerId, qty: 1 },
});

describe('entities', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('entities');
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'small', name: 'Small' });
      await insertCampaign(trx, { id: 'big', name: 'Big' });
      await insertCampaign(trx, { id: 'other', name: 'Other' });
    });
  });
  afterAll(async () => {
    await test.destroy();
  });

  async function columns(campaignId: string) {
    return test.db
      .selectFrom('entities')
      .select(['id', 'kind', 'region_id', 'owner_id', 'version'])
      .where('campaign_id', '=', campaignId)
      .orderBy('id')
      .execute();
  }

  it('inserts a world, deriving region_id and owner_id from each state through the registry', async () => {
    const world: Entity[] = [
      region('vale'),
      player('alice', 'region:vale'),
      item('sword', 'player:alice'),
      item('coin', 'region:vale'),
    ];
    const inserted = await test.db.transaction().execute((trx) => insertEntities(trx, 'small', world));
    expect(inserted).toBe(4);
    expect(await columns('small')).toEqual([
      { id: 'item:coin', kind: 'item', region_id: 'region:vale', owner_id: 'region:vale', version: 0 },
      { id: 'item:sword', kind: 'item', region_id: null, owner_id: 'player:alice', version: 0 },
      { id: 'player:alice', kind: 'player', region_id: 'region:vale', owner_id: null, version: 0 },
      { id: 'region:vale', kind: 'region', region_id: null, owner_id: null, version: 0 },
    ]);
    expect(await findEntity(test.db, 'small', 'player:alice')).toEqual(player('alice', 'region:vale'));
  });

  it('inserts 100,000 entities in bulk', async () => {
    const regions = Array.from({ length: 100 }, (_, i) => region(`r${i}`));
    const items = Array.from({ length: 100_000 - regions.length }, (_, i) =>
      item(`i${i}`, `region:r${i % 100}`),
    );
    const inserted = await test.db
      .transaction()
      .execute((trx) => insertEntities(trx, 'big', [...regions, ...items]));
    expect(inserted).toBe(100_000);
    const count = await test.db
      .selectFrom('entities')
      .select(sql<number>`count(*)`.as('n'))
      .where('campaign_id', '=', 'big')
      .executeTakeFirstOrThrow();
    expect(count.n).toBe(100_000);
  });

  it('refuses kinds the registry does not know and transient kinds, writing nothing', async () => {
    const unknownKind: Entity = { id: 'dragon:x', kind: 'dragon', version: 0, state: {} };
    await expect(
      test.db.transaction().execute((trx) => insertEntities(trx, 'other', [region('a'), unknownKind])),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    const combat: Entity = { id: 'combat:x', kind: 'combat', version: 1, state: { regionId: 'region:a' } };
    await expect(
      test.db.transaction().execute((trx) => upsertEntities(trx, 'other', [combat])),
    ).rejects.toMatchObject({
      code: 'BAD_REQUEST',
    });
    expect(await columns('other')).toEqual([]);
  });

  it('upserts changed entities, replacing state and derived columns, last one winning', async () => {
    const written = await test.db.transaction().execute((trx) =>
      upsertEntities(trx, 'small', [
        item('sword', 'region:vale', 1), // dropped on the ground
        { ...player('alice', 'region:vale', 10), version: 1 },
        { ...player('alice', 'region:vale', 25), version: 2 }, // the same id again: the later state wins
        item('shield', 'player:alice', 1), // new
      ]),
    );
    expect(written).toBe(3);
    expect(
      await findEntities(test.db, 'small', ['player:alice', 'item:sword', 'item:shield', 'item:none']),
    ).toEqual([
      { ...player('alice', 'region:vale', 25), version: 2 },
      item('sword', 'region:vale', 1),
      item('shield', 'player:alice', 1),
    ]);
    const sword = (await columns('small')).find((row) => row.id === 'item:sword');
    expect(sword).toMatchObject({ region_id: 'region:vale', owner_id: 'region:vale', version: 1 });
  });

  it('writes a changed entity beside its old version, on the same page (the table keeps pages 30 % free)', async () => {
    await test.db.transaction().execute((trx) => insertCampaign(trx, { id: 'pages', name: 'Pages' }));
    const players = Array.from({ length: 400 }, (_, i) => player(`p${i}`, 'region:vale'));
    await test.db.transaction().execute((trx) => insertEntities(trx, 'pages', players));
    const pages = async () => {
      const { rows } = await sql<{ id: string; page: number }>`
        select id, (ctid::text::point)[0]::int as page from entities where campaign_id = 'pages'`.execute(
        test.db,
      );
      return new Map(rows.map((row) => [row.id, row.page]));
    };
    const before = await pages();
    expect(new Set(before.values()).size).toBeGreaterThan(1);

    // A flush's worth of changes: every fourth player, with a new version and more gold.
    const changed = players.filter((_, i) => i % 4 === 0).map((p) => ({ ...p, version: 1 }));
    await test.db.transaction().execute((trx) => upsertEntities(trx, 'pages', changed));
    const after = await pages();
    // Full pages (fillfactor 100) send every new version to another page and into every index.
    const moved = changed.filter((p) => after.get(p.id) !== before.get(p.id)).map((p) => p.id);
    expect(moved).toEqual([]);
    expect((await findEntities(test.db, 'pages', ['player:p4']))[0]?.version).toBe(1);
  });

  it('keeps every character of a state, in its column’s order', async () => {
    const odd = (name: string, text: string): Entity => ({
      ...player(name, 'region:vale'),
      state: { name, regionId: 'region:vale', gold: 0, xp: 0, note: text, nested: [{ text }, null, 1.5] },
    });
    const states = [
      odd('quote', 'say "hi", then \\"bye\\"'),
      odd('brace', '{"not": "json"}, [1,2]'),
      odd('unicode', 'é ✓ 𝄞 \u0001 \n\t'),
      odd('comma', ',,,'),
    ];
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'chars', name: 'Chars' });
      await upsertEntities(trx, 'chars', states);
    });
    const found = await findEntities(
      test.db,
      'chars',
      states.map((entity) => entity.id),
    );
    expect(found).toHaveLength(states.length);
    expect(found).toEqual(expect.arrayContaining(states));
    expect(await columns('chars')).toEqual(
      states
        .map((e) => ({ id: e.id, kind: 'player', region_id: 'region:vale', owner_id: null, version: 0 }))
        .sort((a, b) => a.id.localeCompare(b.id)),
    );
  });

  it('deletes by id within one campaign, ignoring ids already gone', async () => {
    await test.db.transaction().execute((trx) => insertEntities(trx, 'other', [item('coin', 'region:vale')]));
    const deleted = await test.db
      .transaction()
      .execute((trx) => deleteEntities(trx, 'small', ['item:coin', 'item:shield', 'item:never']));
    expect(deleted).toBe(2);
    expect((await columns('small')).map((row) => row.id)).toEqual([
      'item:sword',
      'player:alice',
      'region:vale',
    ]);
    expect(await findEntity(test.db, 'other', 'item:coin')).toBeDefined();
  });

  it('streams a campaign page by page in id order, each entity once', async () => {
    const pages: number[] = [];
    const ids: string[] = [];
    for await (const page of streamEntities(test.db, 'big', 30_000)) {
      pages.push(page.length);
      for (const entity of page) ids.push(entity.id);
    }
    expect(pages).toEqual([30_000, 30_000, 30_000, 10_000]);
    expect(new Set(ids).size).toBe(100_000);
    const sorted = await test.db
      .selectFrom('entities')
      .select('id')
      .where('campaign_id', '=', 'big')
      .orderBy('id')
      .execute();
    expect(ids).toEqual(sorted.map((row) => row.id));
  });

  it('streams nothing for an empty campaign', async () => {
    const pages: Entity[][] = [];
    for await (const page of streamEntities(test.db, 'nobody')) pages.push(page);
    expect(pages).toEqual([]);
  });
});
