import { z } from 'zod';
import type { Entity } from './index';
import {
  LorekeeperError,
  MAX_JSON_DEPTH,
  checkReferences,
  evolve,
  fold,
  parseEvent,
  referenceRegistry,
} from './index';
import { entitiesById, given, tinyWorld } from '@lorekeeper/testing';

const gold = (delta: number, extra: object = {}) => ({
  type: 'player.gold.changed',
  entityId: 'player:alice',
  data: { delta },
  ...extra,
});
const alice = entitiesById(tinyWorld).get('player:alice')!;

/** The error `fn` throws; fails the test when it throws nothing or something that is not ours. */
function errorOf(fn: () => unknown): LorekeeperError {
  try {
    fn();
  } catch (error) {
    if (error instanceof LorekeeperError) return error;
    throw error;
  }
  throw new Error('expected a LorekeeperError, but nothing was thrown');
}

describe('parseEvent', () => {
  it('returns the event with its parsed data and expected version', () => {
    expect(parseEvent(gold(5, { expectedVersion: 0 }))).toEqual({ ...gold(5), expectedVersion: 0 });
  });

  it.each([null, 'player.moved', 42, [gold(1)]])('refuses a body that is not an event object: %j', (raw) => {
    expect(errorOf(() => parseEvent(raw))).toMatchObject({ code: 'BAD_REQUEST', message: /is malformed/ });
  });

  it('refuses an unknown event type with UNKNOWN_EVENT_TYPE naming it', () => {
    given(tinyWorld)
      .when({ type: 'player.teleported', entityId: 'player:alice', data: {} })
      .thenThrows('UNKNOWN_EVENT_TYPE', 'events.0.type "player.teleported" is not in the event catalogue');
  });

  it('refuses a typo in data such as "detla", naming the unknown key and the missing one', () => {
    const error = given(tinyWorld)
      .when({ type: 'player.gold.changed', entityId: 'player:alice', data: { detla: 5 } })
      .thenThrows('BAD_REQUEST', 'Unrecognized key: "detla"');
    expect(error.details?.['problems']).toEqual([
      'events.0.data.delta: Invalid input: expected number, received undefined',
      'events.0.data: Unrecognized key: "detla"',
    ]);
  });

  it('refuses a field the event envelope does not define', () => {
    given(tinyWorld)
      .when(gold(5, { expectdVersion: 1 }))
      .thenThrows('BAD_REQUEST', 'Unrecognized key: "expectdVersion"');
  });

  it.each([
    [
      'in data',
      '{"type":"player.gold.changed","entityId":"player:alice","data":{"delta":1,"__proto__":{"x":1}}}',
    ],
    [
      'on the envelope',
      '{"type":"player.gold.changed","entityId":"player:alice","data":{"delta":1},"__proto__":{}}',
    ],
    [
      'deep in a value',
      '{"type":"world.flag.set","entityId":"world","data":{"key":"k","value":[{"__proto__":1}]}}',
    ],
  ])('refuses a __proto__ key %s as BAD_REQUEST', (_where, json) => {
    given(tinyWorld).when(JSON.parse(json)).thenThrows('BAD_REQUEST', 'key "__proto__" is not allowed');
  });

  it('refuses a constructor key in data as BAD_REQUEST', () => {
    given(tinyWorld)
      .when({ type: 'player.xp.gained', entityId: 'player:alice', data: { amount: 1, constructor: {} } })
      .thenThrows('BAD_REQUEST', 'key "constructor" is not allowed');
  });

  it('refuses an entity id of the wrong kind for the event as BAD_REQUEST', () => {
    given(tinyWorld)
      .when({ type: 'player.gold.changed', entityId: 'npc:goblin', data: { delta: 1 } })
      .thenThrows('BAD_REQUEST', 'player.gold.changed applies to a player, but npc:goblin is a npc');
  });

  it.each(['alice', 'player:', 'Player:alice', 'player:a b', 'world:second'])(
    'refuses the malformed entity id %j as BAD_REQUEST',
    (entityId) => {
      given(tinyWorld)
        .when({ type: 'player.gold.changed', entityId, data: { delta: 1 } })
        .thenThrows('BAD_REQUEST', `"${entityId}" is not an entity id`);
    },
  );

  it(`refuses data nested deeper than ${MAX_JSON_DEPTH} levels`, () => {
    let value: unknown = 'deep';
    for (let i = 0; i < MAX_JSON_DEPTH + 1; i++) value = { inner: value };
    given(tinyWorld)
      .when({ type: 'world.flag.set', entityId: 'world', data: { key: 'k', value } })
      .thenThrows('BAD_REQUEST', `nested deeper than ${MAX_JSON_DEPTH} levels`);
  });

  it.each([-1, 1.5])('refuses expectedVersion %d as BAD_REQUEST', (expectedVersion) => {
    given(tinyWorld).when(gold(1, { expectedVersion })).thenThrows('BAD_REQUEST', 'events.0.expectedVersion');
  });

  it('names the position of the bad event in a batch', () => {
    given(tinyWorld)
      .when([gold(1), gold(0)])
      .thenThrows('BAD_REQUEST', 'events.1 (player.gold.changed) has invalid data');
  });
});

describe('checkReferences', () => {
  const world = entitiesById(tinyWorld);
  const moveSword = (toId: string) =>
    parseEvent({ type: 'item.moved', entityId: 'item:sword', data: { fromId: 'player:alice', toId } });

  it('accepts an event whose references all exist', () => {
    expect(() => checkReferences(moveSword('npc:goblin'), (id) => world.get(id))).not.toThrow();
  });

  it('refuses a missing reference with UNKNOWN_ENTITY, naming the field and the id', () => {
    expect(errorOf(() => checkReferences(moveSword('npc:ghost'), (id) => world.get(id)))).toMatchObject({
      code: 'UNKNOWN_ENTITY',
      message: 'data.toId of item.moved: npc:ghost does not exist',
      details: { entityId: 'npc:ghost' },
    });
  });

  it('refuses a reference to an entity of the wrong kind with VALIDATION_FAILED', () => {
    // The reference catalogue pins every reference's kind in its data schema (a BAD_REQUEST, see
    // player.spec.ts); a game event whose schema takes any id relies on this check instead.
    const registry = referenceRegistry.extend().registerEvent({
      type: 'player.cursed',
      entityKind: 'player',
      lifecycle: 'update',
      persistence: 'persistent',
      major: false,
      data: z.strictObject({ byId: z.string() }),
      references: (data: { byId: string }) => [{ field: 'byId', id: data.byId, kinds: ['npc'] }],
      evolve: (state) => state,
    });
    given(tinyWorld, { registry })
      .when({ type: 'player.cursed', entityId: 'player:alice', data: { byId: 'player:bob' } })
      .thenThrows('VALIDATION_FAILED', 'data.byId of player.cursed must be a npc, found player player:bob');
  });
});

describe('evolve', () => {
  it('creates an entity at version 1', () => {
    const created = parseEvent({
      type: 'npc.spawned',
      entityId: 'npc:wolf',
      data: { name: 'Wolf', regionId: 'region:vale', hp: 3 },
    });
    expect(evolve(undefined, created)).toMatchObject({ id: 'npc:wolf', kind: 'npc', version: 1 });
  });

  it('gives an updated entity the previous version plus one', () => {
    expect(evolve({ ...alice, version: 7 }, parseEvent(gold(1)))).toMatchObject({
      version: 8,
      state: { gold: 11 },
    });
  });

  it('refuses a stale expectedVersion with VERSION_CONFLICT saying what was expected and found', () => {
    expect(
      errorOf(() => evolve({ ...alice, version: 7 }, parseEvent(gold(1, { expectedVersion: 3 })))),
    ).toMatchObject({
      code: 'VERSION_CONFLICT',
      message: 'player:alice expected version 3, found 7',
      details: { entityId: 'player:alice', expectedVersion: 3, actualVersion: 7 },
    });
  });

  it('applies an event whose expectedVersion is current', () => {
    given(tinyWorld)
      .when([gold(1, { expectedVersion: 0 }), gold(1, { expectedVersion: 1 })])
      .then({ 'player:alice': { version: 2, state: { gold: 12 } } });
  });

  it('sees the versions of earlier events in the same batch', () => {
    given(tinyWorld)
      .when([gold(1, { expectedVersion: 0 }), gold(1, { expectedVersion: 0 })])
      .thenThrows('VERSION_CONFLICT', 'player:alice expected version 0, found 1');
  });

  it('takes an entity that does not exist to be at version 0', () => {
    const spawn = (expectedVersion: number) => ({
      type: 'npc.spawned',
      entityId: 'npc:wolf',
      data: { name: 'Wolf', regionId: 'region:vale', hp: 3 },
      expectedVersion,
    });
    given(tinyWorld)
      .when(spawn(0))
      .then({ 'npc:wolf': { version: 1 } });
    given(tinyWorld).when(spawn(1)).thenThrows('VERSION_CONFLICT', 'npc:wolf expected version 1, found 0');
  });

  it('returns null for an event that destroys its entity', () => {
    const sword = entitiesById(tinyWorld).get('item:sword');
    expect(
      evolve(sword, parseEvent({ type: 'item.destroyed', entityId: 'item:sword', data: {} })),
    ).toBeNull();
  });

  it('refuses an event type it does not know, even unparsed', () => {
    expect(
      errorOf(() => evolve(alice, { type: 'player.danced', entityId: 'player:alice', data: {} })),
    ).toMatchObject({
      code: 'UNKNOWN_EVENT_TYPE',
      message: 'event type "player.danced" is not in the event catalogue',
    });
  });
});

describe('fold', () => {
  const start = entitiesById(tinyWorld);

  it('applies events in order into a new map and leaves its input alone', () => {
    const result = fold(
      start,
      [gold(5), gold(-15)].map((raw) => parseEvent(raw)),
    );
    expect(result.get('player:alice')).toMatchObject({ version: 2, state: { gold: 0 } });
    expect(result).not.toBe(start);
    expect(start.get('player:alice')).toBe(alice);
  });

  it('throws on the first event that does not apply', () => {
    const events = [gold(-15), gold(5)].map((raw) => parseEvent(raw));
    expect(errorOf(() => fold(start, events))).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('returns the same entities for no events', () => {
    const copy: Map<string, Entity> = fold(start, []);
    expect(copy).toEqual(start);
  });
});
