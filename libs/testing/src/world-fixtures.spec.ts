import fc from 'fast-check';
import type { Entity, ItemState, QuestState, RegionState, WorldDocument } from '@lorekeeper/domain';
import { kindOf, parseWorldDocument } from '@lorekeeper/domain';
import type { WorldOptions } from './world-fixtures';
import { entitiesById, generateWorld, seededRandom, tinyWorld } from './world-fixtures';

const options: WorldOptions = {
  campaignId: 'gen',
  regions: 50,
  players: 10,
  npcs: 80,
  items: 300,
  quests: 120,
  worldEvents: 15,
  seed: 99,
};

const ofKind = (world: WorldDocument, kind: string) => world.entities.filter((e) => e.kind === kind);

/** Every region reachable from the first one, following neighbour lists. */
function reachable(regions: readonly Entity[]): Set<string> {
  const byId = new Map(regions.map((region) => [region.id, region.state as RegionState]));
  const seen = new Set([regions[0]!.id]);
  const queue = [regions[0]!.id];
  for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
    for (const next of byId.get(id)!.neighbors) {
      if (seen.has(next)) continue;
      seen.add(next);
      queue.push(next);
    }
  }
  return seen;
}

describe('seededRandom', () => {
  it('repeats its sequence for a seed, stays in [0, 1), and differs between seeds', () => {
    const draw = (seed: number) => Array.from({ length: 100 }, seededRandom(seed));
    expect(draw(1)).toEqual(draw(1));
    expect(draw(1)).not.toEqual(draw(2));
    expect(draw(3).every((x) => x >= 0 && x < 1)).toBe(true);
  });
});

describe('generateWorld', () => {
  it('builds the same document for the same options and another one for another seed', () => {
    expect(generateWorld(options)).toEqual(generateWorld(options));
    expect(generateWorld({ ...options, seed: 100 })).not.toEqual(generateWorld(options));
  });

  it('holds exactly the requested counts plus one world', () => {
    const world = generateWorld(options);
    const counts = Object.fromEntries(
      ['world', 'region', 'player', 'npc', 'item', 'quest', 'worldEvent'].map((k) => [
        k,
        ofKind(world, k).length,
      ]),
    );
    expect(counts).toEqual({
      world: 1,
      region: 50,
      player: 10,
      npc: 80,
      item: 300,
      quest: 120,
      worldEvent: 15,
    });
    expect(new Set(world.entities.map((e) => e.id)).size).toBe(world.entities.length);
  });

  it('always produces a document that parseWorldDocument accepts, for any sizes and seed', () => {
    const count = (max: number) => fc.integer({ min: 0, max });
    fc.assert(
      fc.property(
        fc.record({
          regions: fc.integer({ min: 1, max: 30 }),
          players: count(6),
          npcs: count(20),
          items: count(40),
          quests: count(20),
          worldEvents: count(5),
          seed: fc.integer(),
          maxNeighbours: fc.integer({ min: 2, max: 8 }),
        }),
        (sizes) => {
          const world = generateWorld({ campaignId: 'prop', ...sizes });
          expect(parseWorldDocument(world)).toEqual(world);
        },
      ),
      { numRuns: 60 },
    );
  });

  it.each([2, 4])(
    'links regions into one connected map with symmetric lists of at most %d neighbours',
    (maxNeighbours) => {
      const regions = ofKind(generateWorld({ ...options, regions: 400, maxNeighbours }), 'region');
      const byId = new Map(regions.map((region) => [region.id, region.state as RegionState]));
      for (const region of regions) {
        const { neighbors } = region.state as RegionState;
        expect(neighbors.length).toBeLessThanOrEqual(maxNeighbours);
        expect(new Set(neighbors).size).toBe(neighbors.length);
        expect(neighbors).not.toContain(region.id);
        for (const neighbour of neighbors) expect(byId.get(neighbour)!.neighbors).toContain(region.id);
      }
      expect(reachable(regions).size).toBe(regions.length);
    },
  );

  it('mixes item holders and quest statuses', () => {
    const world = generateWorld(options);
    const holderKinds = new Set(
      ofKind(world, 'item').map((item) => kindOf((item.state as ItemState).ownerId)),
    );
    expect([...holderKinds].sort()).toEqual(['npc', 'player', 'region']);
    const quests = ofKind(world, 'quest').map((quest) => quest.state as QuestState);
    expect(new Set(quests.map((quest) => quest.status))).toEqual(
      new Set(['available', 'active', 'completed']),
    );
    for (const quest of quests) expect(quest.playerId === null).toBe(quest.status === 'available');
  });

  it('keeps every quest available and every item with an NPC or on the ground when there are no players', () => {
    const world = generateWorld({ ...options, players: 0 });
    expect(ofKind(world, 'quest').every((q) => (q.state as QuestState).status === 'available')).toBe(true);
    expect(ofKind(world, 'item').some((i) => kindOf((i.state as ItemState).ownerId) === 'player')).toBe(
      false,
    );
  });

  it('refuses options it cannot honour, listing each', () => {
    expect(() =>
      generateWorld({ ...options, campaignId: 'a.b', regions: 0, items: -1, maxNeighbours: 1 }),
    ).toThrow(
      'generateWorld: items must be a count, got -1; regions must be at least 1, got 0; ' +
        'maxNeighbours must be an integer from 2 to 64, got 1; campaignId must match',
    );
  });
});

describe('tinyWorld', () => {
  it('is a valid document whose regions form the chain vale - hills - far', () => {
    expect(parseWorldDocument(tinyWorld)).toEqual(tinyWorld);
    const neighbours = Object.fromEntries(
      ofKind(tinyWorld, 'region').map((region) => [region.id, (region.state as RegionState).neighbors]),
    );
    expect(neighbours).toEqual({
      'region:vale': ['region:hills'],
      'region:hills': ['region:vale', 'region:far'],
      'region:far': ['region:hills'],
    });
  });

  it('is frozen, so no test can change it for the next one', () => {
    const alice = entitiesById(tinyWorld).get('player:alice')!;
    expect(() => {
      (alice.state as { gold: number }).gold = 1_000;
    }).toThrow(TypeError);
    expect(Object.isFrozen(tinyWorld.entities)).toBe(true);
  });

  it('is keyed by id by entitiesById', () => {
    const byId = entitiesById(tinyWorld.entities);
    expect(byId.size).toBe(tinyWorld.entities.length);
    expect(byId.get('item:sword')).toBe(tinyWorld.entities.find((e) => e.id === 'item:sword'));
  });
});
