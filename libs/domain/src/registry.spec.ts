import fc from 'fast-check';
import { z } from 'zod';
import type { DomainRegistry, EntityKindDefinition, EventDefinition } from './index';
import {
  fold,
  parseEvent,
  parseWorldDocument,
  referenceRegistry,
  selectLiveSet,
  validationFailed,
} from './index';
import { entitiesById, given, tinyWorld } from '@lorekeeper/testing';

// A game's own kind and events, registered from outside the engine as PROTOCOL.md promises.
const mountState = z.strictObject({
  name: z.string().min(1),
  regionId: z.string().startsWith('region:'),
  riderId: z.string().nullable(),
  stamina: z.int().nonnegative(),
});
type MountState = z.infer<typeof mountState>;

const mountKind: EntityKindDefinition<MountState> = {
  kind: 'mount',
  persistence: 'persistent',
  state: mountState,
  regionOf: (s) => s.regionId,
  ownerOf: (s) => s.riderId,
  references: (s) => [{ field: 'regionId', id: s.regionId, kinds: ['region'] }],
};

const tamed: EventDefinition<{ name: string; regionId: string; stamina: number }> = {
  type: 'mount.tamed',
  entityKind: 'mount',
  lifecycle: 'create',
  persistence: 'persistent',
  major: false,
  data: z.strictObject({ name: z.string().min(1), regionId: z.string(), stamina: z.int().positive() }),
  references: (d) => [{ field: 'regionId', id: d.regionId, kinds: ['region'] }],
  evolve: (_state, d) => ({ name: d.name, regionId: d.regionId, riderId: null, stamina: d.stamina }),
};

const ridden: EventDefinition<{ riderId: string; distance: number }> = {
  type: 'mount.ridden',
  entityKind: 'mount',
  lifecycle: 'update',
  persistence: 'persistent',
  major: false,
  data: z.strictObject({ riderId: z.string(), distance: z.int().positive() }),
  references: (d) => [{ field: 'riderId', id: d.riderId, kinds: ['player'] }],
  evolve: (state, d, entityId) => {
    const mount = state as MountState;
    if (d.distance > mount.stamina) {
      throw validationFailed(`${entityId} has ${mount.stamina} stamina; riding ${d.distance} needs more`);
    }
    return { ...mount, riderId: d.riderId, stamina: mount.stamina - d.distance };
  },
};

const gameRegistry = (): DomainRegistry =>
  referenceRegistry.extend().registerKind(mountKind).registerEvent(tamed).registerEvent(ridden);

const tame = (entityId = 'mount:storm', regionId = 'region:hills') => ({
  type: 'mount.tamed',
  entityId,
  data: { name: 'Storm', regionId, stamina: 10 },
});
const ride = (distance: number, riderId = 'player:alice') => ({
  type: 'mount.ridden',
  entityId: 'mount:storm',
  data: { riderId, distance },
});

describe('a registry extended by a game', () => {
  const registry = gameRegistry();

  it('applies the game events through the unchanged engine', () => {
    given(tinyWorld, { registry })
      .when([tame(), ride(3), ride(4, 'player:bob')])
      .then({
        'mount:storm': {
          kind: 'mount',
          version: 3,
          state: { name: 'Storm', regionId: 'region:hills', riderId: 'player:bob', stamina: 3 },
        },
      });
  });

  it('enforces the game rule with VALIDATION_FAILED', () => {
    given(tinyWorld, { registry })
      .when([tame(), ride(11)])
      .thenThrows('VALIDATION_FAILED', 'mount:storm has 10 stamina; riding 11 needs more');
  });

  it('checks the game references: a missing one is UNKNOWN_ENTITY, the wrong kind VALIDATION_FAILED', () => {
    given(tinyWorld, { registry })
      .when([tame(), ride(1, 'player:zed')])
      .thenThrows('UNKNOWN_ENTITY', 'data.riderId of mount.ridden: player:zed does not exist');
    given(tinyWorld, { registry })
      .when([tame(), ride(1, 'npc:goblin')])
      .thenThrows('VALIDATION_FAILED', 'data.riderId of mount.ridden must be a player, found npc npc:goblin');
  });

  it('keeps stamina equal to the start minus the accepted rides and never negative, for any rides', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 20 }), (distances) => {
        let entities = fold(entitiesById(tinyWorld), [parseEvent(tame(), registry)], registry);
        const accepted: number[] = [];
        for (const distance of distances) {
          try {
            entities = fold(entities, [parseEvent(ride(distance), registry)], registry);
            accepted.push(distance);
          } catch (error) {
            expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
          }
        }
        const stamina = (entities.get('mount:storm')!.state as MountState).stamina;
        expect(stamina).toBe(10 - accepted.reduce((sum, distance) => sum + distance, 0));
        expect(stamina).toBeGreaterThanOrEqual(0);
        // Greedy model: a ride is refused exactly when it needs more stamina than is left.
        let left = 10;
        const modelAccepted: number[] = [];
        for (const distance of distances) {
          if (distance > left) continue;
          left -= distance;
          modelAccepted.push(distance);
        }
        expect(accepted).toEqual(modelAccepted);
      }),
    );
  });

  it('accepts the new kind in world documents and live sets', () => {
    const mount = { id: 'mount:storm', kind: 'mount', version: 0, state: { ...tame().data, riderId: null } };
    const farMount = { ...mount, id: 'mount:far', state: { ...mount.state, regionId: 'region:far' } };
    const document = { ...tinyWorld, entities: [...tinyWorld.entities, mount, farMount] };
    const parsed = parseWorldDocument(document, registry);
    const live = selectLiveSet(entitiesById(parsed), ['player:alice'], registry);
    expect(live.has('mount:storm')).toBe(true);
    expect(live.has('mount:far')).toBe(false);
  });

  it('leaves the reference registry unchanged', () => {
    expect(referenceRegistry.kind('mount')).toBeUndefined();
    given(tinyWorld)
      .when(tame())
      .thenThrows('UNKNOWN_EVENT_TYPE', '"mount.tamed" is not in the event catalogue');
    expect(() =>
      parseWorldDocument({
        ...tinyWorld,
        entities: [{ id: 'mount:x', kind: 'mount', version: 0, state: {} }],
      }),
    ).toThrow(/unknown kind "mount"/);
  });
});

describe('DomainRegistry', () => {
  it('refuses a kind registered twice', () => {
    expect(() => referenceRegistry.extend().registerKind(mountKind).registerKind(mountKind)).toThrow(
      'entity kind "mount" is already registered',
    );
  });

  it('refuses an event type registered twice', () => {
    expect(() => gameRegistry().registerEvent(tamed)).toThrow(
      'event type "mount.tamed" is already registered',
    );
  });

  it('refuses an event on a kind nobody registered', () => {
    expect(() => referenceRegistry.extend().registerEvent(tamed)).toThrow(
      'event type "mount.tamed" targets unregistered kind "mount"',
    );
  });

  it('refuses an event whose persistence differs from its kind', () => {
    expect(() =>
      referenceRegistry
        .extend()
        .registerKind(mountKind)
        .registerEvent({ ...tamed, persistence: 'transient' }),
    ).toThrow('event type "mount.tamed" is transient but kind "mount" is persistent');
  });
});
