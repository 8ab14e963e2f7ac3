import fc from 'fast-check';
import type { Entity, ItemState, PlayerState } from './index';
import { LorekeeperError, fold, parseEvent } from './index';
import { applyEvents, entitiesById, generateWorld, tinyWorld } from '@lorekeeper/testing';

/** Apply each event on its own, skipping the ones the domain rejects; returns what was accepted. */
function applyAccepted(start: ReadonlyMap<string, Entity>, events: readonly unknown[]) {
  let entities = new Map(start);
  const accepted: unknown[] = [];
  for (const event of events) {
    try {
      entities = applyEvents(entities, [event]);
      accepted.push(event);
    } catch (error) {
      if (!(error instanceof LorekeeperError)) throw error;
    }
  }
  return { entities, accepted };
}

const itemsOf = (entities: ReadonlyMap<string, Entity>) =>
  [...entities.values()].filter((entity) => entity.kind === 'item');

describe('items are conserved', () => {
  const world = entitiesById(
    generateWorld({ campaignId: 'items', regions: 3, players: 3, npcs: 2, items: 8, quests: 0, seed: 7 }),
  );
  const holders = [...world.values()]
    .filter((e) => ['player', 'npc', 'region'].includes(e.kind))
    .map((e) => e.id);
  const itemIds = itemsOf(world).map((item) => item.id);
  const moves = fc.array(fc.record({ item: fc.constantFrom(...itemIds), to: fc.constantFrom(...holders) }), {
    maxLength: 60,
  });

  it('never duplicates or loses an item over any sequence of valid item.moved events', () => {
    fc.assert(
      fc.property(moves, (plan) => {
        // Each move names the item's holder at that moment, so every event is valid.
        const owners = new Map(itemsOf(world).map((item) => [item.id, (item.state as ItemState).ownerId]));
        const events = plan.map(({ item, to }) => {
          const event = { type: 'item.moved', entityId: item, data: { fromId: owners.get(item), toId: to } };
          owners.set(item, to);
          return event;
        });
        const after = applyEvents(world, events);
        const items = itemsOf(after);
        expect(items.map((item) => item.id).sort()).toEqual([...itemIds].sort());
        for (const item of items) {
          const ownerId = (item.state as ItemState).ownerId;
          expect(ownerId).toBe(owners.get(item.id));
          expect(holders).toContain(ownerId);
          expect(after.has(ownerId)).toBe(true);
        }
      }),
    );
  });

  it('rejects a move from anyone but the holder and changes nothing', () => {
    fc.assert(
      fc.property(fc.constantFrom(...itemIds), fc.constantFrom(...holders), (item, fromId) => {
        const ownerId = (world.get(item)!.state as ItemState).ownerId;
        fc.pre(fromId !== ownerId);
        const { entities, accepted } = applyAccepted(world, [
          { type: 'item.moved', entityId: item, data: { fromId, toId: ownerId } },
        ]);
        expect(accepted).toEqual([]);
        expect(entities).toEqual(world);
      }),
    );
  });
});

describe('gold never goes below 0', () => {
  const alice = entitiesById(tinyWorld).get('player:alice')!;
  const withGold = (gold: number) =>
    new Map([[alice.id, { ...alice, state: { ...(alice.state as PlayerState), gold } }]]);
  const deltas = fc.array(
    fc.integer({ min: -60, max: 60 }).filter((delta) => delta !== 0),
    { maxLength: 80 },
  );

  it('keeps gold >= 0, equal to the start plus the accepted deltas, rejecting exactly the overdrafts', () => {
    fc.assert(
      fc.property(fc.nat({ max: 100 }), deltas, (startGold, plan) => {
        const events = plan.map((delta) => ({
          type: 'player.gold.changed',
          entityId: alice.id,
          data: { delta },
        }));
        const { entities, accepted } = applyAccepted(withGold(startGold), events);

        const acceptedDeltas = accepted.map((event) => (event as (typeof events)[number]).data.delta);
        const gold = (entities.get(alice.id)!.state as PlayerState).gold;
        expect(gold).toBeGreaterThanOrEqual(0);
        expect(gold).toBe(startGold + acceptedDeltas.reduce((sum, delta) => sum + delta, 0));
        expect(entities.get(alice.id)!.version).toBe(accepted.length);

        // An independent model: a delta is refused exactly when the running total would go negative.
        let running = startGold;
        const modelAccepted: number[] = [];
        for (const delta of plan) {
          if (running + delta < 0) continue;
          running += delta;
          modelAccepted.push(delta);
        }
        expect(acceptedDeltas).toEqual(modelAccepted);
      }),
    );
  });
});

describe('determinism', () => {
  const start = entitiesById(tinyWorld);
  const ids = (kind: string) => [...start.keys()].filter((id) => id.startsWith(`${kind}:`));
  const holders = [...ids('player'), ...ids('npc'), ...ids('region')];
  const event = (type: string, entityId: fc.Arbitrary<string>, data: fc.Arbitrary<object>) =>
    fc.record({ type: fc.constant(type), entityId, data });
  // Valid and invalid events of most types; the invalid ones are dropped before the property is checked.
  const anyEvent = fc.oneof(
    event(
      'player.gold.changed',
      fc.constantFrom(...ids('player')),
      fc.record({ delta: fc.integer({ min: -9, max: 9 }) }),
    ),
    event(
      'player.xp.gained',
      fc.constantFrom(...ids('player')),
      fc.record({ amount: fc.integer({ min: 1, max: 50 }) }),
    ),
    event(
      'player.moved',
      fc.constantFrom(...ids('player')),
      fc.record({ regionId: fc.constantFrom(...ids('region')) }),
    ),
    event(
      'item.moved',
      fc.constantFrom(...ids('item')),
      fc.record({ fromId: fc.constantFrom(...holders), toId: fc.constantFrom(...holders) }),
    ),
    event('item.destroyed', fc.constantFrom(...ids('item')), fc.constant({})),
    event(
      'npc.damaged',
      fc.constantFrom(...ids('npc')),
      fc.record({ amount: fc.integer({ min: 1, max: 20 }) }),
    ),
    event('npc.defeated', fc.constantFrom(...ids('npc')), fc.record({ byId: fc.constantFrom(...holders) })),
    event(
      'quest.started',
      fc.constantFrom(...ids('quest')),
      fc.record({ playerId: fc.constantFrom(...ids('player')) }),
    ),
    event(
      'quest.progressed',
      fc.constantFrom(...ids('quest')),
      fc.record({ step: fc.integer({ min: 0, max: 5 }) }),
    ),
    event('quest.completed', fc.constantFrom(...ids('quest')), fc.constant({})),
    event(
      'world.flag.set',
      fc.constant('world'),
      fc.record({ key: fc.constantFrom('a', 'b'), value: fc.jsonValue({ maxDepth: 3 }) }),
    ),
    event('world.event.ended', fc.constantFrom(...ids('worldEvent')), fc.constant({})),
  );

  it('gives deep-equal states when the same valid events are applied twice from the same start', () => {
    fc.assert(
      fc.property(fc.array(anyEvent, { maxLength: 40 }), (candidates) => {
        const { entities, accepted } = applyAccepted(start, candidates);
        const events = accepted.map((raw) => parseEvent(raw));
        const first = fold(start, events);
        const second = fold(start, events);
        expect(second).toEqual(first);
        expect(first).toEqual(entities);
        expect(applyEvents(start, accepted)).toEqual(first);
      }),
    );
  });
});
