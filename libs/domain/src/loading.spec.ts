import fc from 'fast-check';
import type { Entity, ItemState, PlayerState, QuestState, RegionState } from './index';
import { fold, isAroundPlayers, loadingContext, neighbourhood, parseEvent, selectLiveSet } from './index';
import { entitiesById, generateWorld, tinyWorld } from '@lorekeeper/testing';

const world = entitiesById(tinyWorld);
const sorted = (ids: Iterable<string>) => [...ids].sort();
const everywhere = ['world', 'region:vale', 'region:hills', 'region:far'];

describe('selectLiveSet on the tiny world (vale - hills - far)', () => {
  it('loads what alice needs: herself, her items and active quest, and what stands in the vale or the hills', () => {
    expect(sorted(selectLiveSet(world, ['player:alice']))).toEqual(
      sorted([
        ...everywhere,
        'player:alice',
        'item:sword', // hers
        'quest:relic', // her active quest, even though it is in the far region
        'npc:goblin', // in the hills, a neighbour
        'item:coin', // on the ground in the hills
        'quest:rats', // available, in the vale
        'worldEvent:fair', // in the hills
      ]),
    );
  });

  it.each([
    ['player:bob', 'another player'],
    ['item:shield', "another player's item"],
    ['npc:troll', 'an NPC two regions away'],
    ['item:club', 'an item held by an NPC in a far region'],
    ['item:amulet', 'an item held by an NPC nearby (the rule loads only items on the ground)'],
    ['item:gem', 'an item on the ground two regions away'],
    ['quest:old', 'a completed quest elsewhere'],
    ['quest:bandits', "another player's active quest far away"],
    ['worldEvent:storm', 'a world event two regions away'],
  ])('does not load %s for alice: %s', (id) => {
    expect(world.has(id)).toBe(true);
    expect(selectLiveSet(world, ['player:alice']).has(id)).toBe(false);
  });

  it('loads for bob what stands in the far region and the hills, whatever its status or player', () => {
    expect(sorted(selectLiveSet(world, ['player:bob']))).toEqual(
      sorted([
        ...everywhere,
        'player:bob',
        'item:shield',
        'npc:troll',
        'npc:goblin',
        'item:gem',
        'item:coin',
        'quest:bandits',
        'quest:old',
        'quest:relic',
        'worldEvent:storm',
        'worldEvent:fair',
      ]),
    );
  });

  it('loads the union of what each player needs for a session of two', () => {
    const both = selectLiveSet(world, ['player:alice', 'player:bob']);
    const union = new Set([
      ...selectLiveSet(world, ['player:alice']),
      ...selectLiveSet(world, ['player:bob']),
    ]);
    expect(sorted(both)).toEqual(sorted(union));
  });

  it('ignores ids that are not players and loads only the world and the regions for them', () => {
    expect(sorted(selectLiveSet(world, ['player:zed', 'npc:goblin']))).toEqual(sorted(everywhere));
  });

  it('never loads a transient entity from storage', () => {
    const combat: Entity = {
      id: 'combat:ambush',
      kind: 'combat',
      version: 1,
      state: {
        regionId: 'region:vale',
        participantIds: ['player:alice'],
        status: 'active',
        actions: 0,
        lastAction: null,
        outcome: null,
      },
    };
    expect(selectLiveSet(new Map([...world, [combat.id, combat]]), ['player:alice']).has(combat.id)).toBe(
      false,
    );
  });

  it('follows a player who moved: the new neighbourhood is live, the old one is not', () => {
    const moved = fold(world, [
      parseEvent({ type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:far' } }),
    ]);
    const live = selectLiveSet(moved, ['player:alice']);
    expect(live.has('npc:troll')).toBe(true);
    expect(live.has('worldEvent:storm')).toBe(true);
    expect(live.has('quest:rats')).toBe(false);
  });

  it('takes a region and its direct neighbours as the neighbourhood', () => {
    expect(sorted(neighbourhood(['region:vale'], (id) => world.get(id)))).toEqual([
      'region:hills',
      'region:vale',
    ]);
    expect(sorted(neighbourhood(['region:hills'], (id) => world.get(id)))).toEqual(
      sorted(everywhere.slice(1)),
    );
  });
});

describe('isAroundPlayers', () => {
  it("takes all the rule loads but the regions away from the players: alice's are the vale and the hills", () => {
    const context = loadingContext(world, ['player:alice']);
    const live = [...selectLiveSet(world, ['player:alice'])];
    const around = live.filter((id) => isAroundPlayers(world.get(id) as Entity, context));
    expect(live.filter((id) => !around.includes(id))).toEqual(['region:far']);
    expect(around).toEqual(expect.arrayContaining(['world', 'region:vale', 'region:hills', 'player:alice']));
  });
});

/** The rule of PROTOCOL.md ("Selective loading"), written again from the text, without the domain's code. */
function expectedLive(
  entities: ReadonlyMap<string, Entity>,
  playerIds: readonly string[],
): (e: Entity) => boolean {
  const players = new Set(playerIds.filter((id) => entities.get(id)?.kind === 'player'));
  const near = new Set<string>();
  for (const id of players) {
    const regionId = (entities.get(id)!.state as PlayerState).regionId;
    near.add(regionId);
    for (const n of (entities.get(regionId)!.state as RegionState).neighbors) near.add(n);
  }
  return (entity) => {
    const state = entity.state as Record<string, unknown>;
    if (entity.kind === 'world' || entity.kind === 'region') return true;
    if (entity.kind === 'player') return players.has(entity.id);
    if (entity.kind === 'item') {
      const { ownerId } = state as ItemState;
      return players.has(ownerId) || (ownerId.startsWith('region:') && near.has(ownerId));
    }
    if (entity.kind === 'quest') {
      const quest = state as QuestState;
      return (quest.status === 'active' && players.has(quest.playerId ?? '')) || near.has(quest.regionId);
    }
    return ['npc', 'worldEvent'].includes(entity.kind) && near.has(state['regionId'] as string);
  };
}

describe('selectLiveSet on generated worlds', () => {
  it('returns exactly the entities the rule names, for any world and any set of players', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.integer({ min: 1, max: 40 }),
        fc.subarray(Array.from({ length: 8 }, (_, i) => `player:p${i}`)),
        (seed, regions, playerIds) => {
          const generated = generateWorld({
            campaignId: 'loading',
            regions,
            players: 8,
            npcs: 60,
            items: 120,
            quests: 60,
            worldEvents: 20,
            seed,
          });
          const entities = entitiesById(generated);
          const live = selectLiveSet(entities, playerIds);
          const rule = expectedLive(entities, playerIds);
          const wrong = [...entities.values()].filter((entity) => live.has(entity.id) !== rule(entity));
          expect(wrong.map((entity) => entity.id)).toEqual([]);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('agrees with the rule on a larger world and loads far less than all of it', () => {
    const generated = generateWorld({
      campaignId: 'loading',
      regions: 500,
      players: 50,
      npcs: 2000,
      items: 5000,
      quests: 1000,
      worldEvents: 200,
      seed: 42,
    });
    const entities = entitiesById(generated);
    const playerIds = ['player:p0', 'player:p1', 'player:p2'];
    const live = selectLiveSet(entities, playerIds);
    const rule = expectedLive(entities, playerIds);
    expect([...entities.values()].filter((entity) => live.has(entity.id) !== rule(entity))).toEqual([]);
    const regionsAndWorld = 501; // always live
    expect(live.size - regionsAndWorld).toBeLessThan((entities.size - regionsAndWorld) / 10);
  });
});
