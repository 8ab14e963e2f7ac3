import type { Entity, RegionState } from '@lorekeeper/domain';
import { isAroundPlayers, loadingContext, selectLiveSet } from '@lorekeeper/domain';
import { campaignKeys, deleteCampaignKeys } from '@lorekeeper/redis-store';
import { entitiesById, generateWorld } from '@lorekeeper/testing';
import type { Harness } from './test/harness';
import { startHarness } from './test/harness';
import { createCampaign } from './handlers/create';
import { startSession } from './handlers/session-start';
import { LiveCache } from './live-cache';

let h: Harness;

beforeAll(async () => {
  h = await startHarness('loading');
});
afterAll(() => h.close());

/** Bytes Redis uses for a campaign's live state. */
async function liveBytes(campaignId: string): Promise<number> {
  const keys = campaignKeys(campaignId);
  const sizes = await Promise.all(
    [keys.entities, keys.versions].map((key) => h.redis.memory('USAGE', key, 'SAMPLES', '0')),
  );
  return sizes.reduce<number>((sum, size) => sum + Number(size ?? 0), 0);
}

describe('selective loading', () => {
  it('makes live exactly the entities the rule names, for two players in a 50,000-entity world', async () => {
    const world = generateWorld({
      campaignId: 'big',
      regions: 200,
      players: 2_000,
      npcs: 15_000,
      items: 25_000,
      quests: 7_000,
      worldEvents: 800,
      seed: 42,
    });
    expect(world.entities.length).toBeGreaterThanOrEqual(50_000);
    // Too large for one NATS message (1 MB): created through the same code path the CLI import uses.
    const campaignId = `loading-${Date.now()}`;
    await createCampaign(h.service.deps, campaignId, { ...world, campaignId });

    const players = ['player:p0', 'player:p1'];
    const reply = await h.request(campaignId, 'session.start', { playerIds: players });
    const expected = selectLiveSet(entitiesById(world), players);
    const live = await h.redis.hkeys(campaignKeys(campaignId).entities);
    expect(new Set(live)).toEqual(expected);
    expect(reply.body.loaded.entities).toBe(expected.size);
    // Memory follows the live set, not the world: far less than the world's share.
    expect(expected.size).toBeLessThan(world.entities.length / 10);
    const bytes = await liveBytes(campaignId);
    const bytesPerLiveEntity = bytes / expected.size;
    expect(bytes).toBeLessThan(world.entities.length * bytesPerLiveEntity * 0.1);

    // Two more players grow it by their neighbourhoods only.
    const more = ['player:p2', 'player:p3'];
    await h.request(campaignId, 'session.start', { playerIds: more });
    const grown = selectLiveSet(entitiesById(world), [...players, ...more]);
    expect(new Set(await h.redis.hkeys(campaignKeys(campaignId).entities))).toEqual(grown);
  });

  it('makes the neighbourhood live as a player walks away from it, region by region', async () => {
    const world = generateWorld({
      campaignId: 'walk',
      regions: 40,
      players: 20,
      npcs: 400,
      items: 600,
      quests: 200,
      worldEvents: 40,
      seed: 7,
    });
    const campaignId = `walking-${Date.now()}`;
    await createCampaign(h.service.deps, campaignId, { ...world, campaignId });
    const byId = entitiesById(world);
    const neighbours = (id: string) => (byId.get(id)?.state as RegionState).neighbors;
    const player = 'player:p0';
    const start = (byId.get(player)?.state as { regionId: string }).regionId;
    const startNear = new Set([start, ...neighbours(start)]);
    // Two steps out: to a neighbour, then to one of its neighbours outside where the walk started.
    const first = neighbours(start).find((b) => neighbours(b).some((c) => !startNear.has(c)));
    if (first === undefined) throw new Error('the generated map has no region two steps out');
    const second = neighbours(first).find((c) => !startNear.has(c)) as string;

    const session = await h.request(campaignId, 'session.start', { playerIds: [player] });
    const sessionId = session.body.sessionId as string;
    const liveKeys = async () => new Set(await h.redis.hkeys(campaignKeys(campaignId).entities));
    const standingIn = (regionId: string) => {
      const moved = new Map(byId);
      const p0 = byId.get(player) as Entity;
      moved.set(player, { ...p0, state: { ...(p0.state as object), regionId } });
      return selectLiveSet(moved, [player]);
    };
    const expected = standingIn(start);
    expect(await liveKeys()).toEqual(expected);

    for (const regionId of [first, second, start]) {
      const moved = await h.request(campaignId, 'append', {
        sessionId,
        events: [{ type: 'player.moved', entityId: player, data: { regionId } }],
      });
      expect(moved.body.error).toBeUndefined();
      // Nothing is unloaded during a session: the live set is the union along the walk.
      for (const id of standingIn(regionId)) expected.add(id);
      expect(await liveKeys()).toEqual(expected);
    }
    // The walk reached entities the session start did not load.
    expect(expected.size).toBeGreaterThan(standingIn(start).size);
  });

  describe("what a new session loads goes into the service's LiveCache", () => {
    // 5,000 regions: a live set the start reads in three batches (LIVE_SET_FETCH_ROWS).
    const world = generateWorld({
      campaignId: 'cached',
      regions: 5_000,
      players: 20,
      npcs: 200,
      items: 300,
      quests: 100,
      worldEvents: 20,
      seed: 3,
    });
    const players = ['player:p0', 'player:p1'];
    const created: string[] = [];
    const newCampaign = async (label: string) => {
      const campaignId = `${label}-${Date.now()}`;
      await createCampaign(h.service.deps, campaignId, { ...world, campaignId });
      created.push(campaignId);
      return campaignId;
    };
    afterAll(async () => {
      for (const campaignId of created) await deleteCampaignKeys(h.redis, campaignId);
    });
    const start = (liveCache: LiveCache, campaignId: string, playerIds: string[]) =>
      startSession({ ...h.service.deps, liveCache }, campaignId, { playerIds });

    it('caches what a new session loads near its players, and nothing a joining start loads', async () => {
      const campaignId = await newCampaign('cached');
      const liveCache = new LiveCache(1 << 30);
      const reply = await start(liveCache, campaignId, players);
      const byId = entitiesById(world);
      const live = [...selectLiveSet(byId, players)];
      expect(reply.loaded.entities).toBe(live.length);
      // Every region is live, but only those near the players are cached.
      const context = loadingContext(byId, players);
      const around = live.filter((id) => isAroundPlayers(byId.get(id) as Entity, context));
      const far = live.filter((id) => !around.includes(id));
      expect(far.length).toBeGreaterThan(4_900);
      expect(far.every((id) => id.startsWith('region:'))).toBe(true);
      expect(around.filter((id) => id.startsWith('region:')).length).toBeGreaterThan(0);
      expect(liveCache.entities).toBe(around.length);
      expect(liveCache.lookup(campaignId, reply.sessionId, around)?.size).toBe(around.length);
      expect(liveCache.lookup(campaignId, reply.sessionId, [far[0] as string])).toBeUndefined();

      // A joined session's Redis may hold newer versions than Postgres: its load is not cached.
      const joined = await start(liveCache, campaignId, ['player:p2']);
      expect(joined.sessionId).toBe(reply.sessionId);
      const grown = selectLiveSet(entitiesById(world), [...players, 'player:p2']).size;
      expect(grown).toBeGreaterThan(live.length);
      expect(liveCache.entities).toBe(around.length);
    });

    it('caches nothing of a neighbourhood larger than half the cache, though it passed half mid-load', async () => {
      const measured = new LiveCache(1 << 30);
      const full = await start(measured, await newCampaign('measured'), players);
      // Half of this cache is passed after part of the neighbourhood was cached.
      const liveCache = new LiveCache(measured.jsonBytes);
      const remembered = jest.spyOn(liveCache, 'rememberLoaded');
      const campaignId = await newCampaign('too-large');
      const reply = await start(liveCache, campaignId, players);
      expect(remembered.mock.calls.some(([, , batch]) => batch.length > 0)).toBe(true);
      expect(reply.loaded.entities).toBe(full.loaded.entities);
      expect([liveCache.entities, liveCache.jsonBytes]).toEqual([0, 0]);
      expect(liveCache.lookup(campaignId, reply.sessionId, ['region:r0'])).toBeUndefined();
      // Redis holds all of it all the same.
      expect(await h.redis.hlen(campaignKeys(campaignId).entities)).toBe(full.loaded.entities);
    });
  });
});
