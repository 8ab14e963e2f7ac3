import { given, tinyWorld } from '@lorekeeper/testing';

const flagSet = (key: string, value: unknown, entityId = 'world') => ({
  type: 'world.flag.set',
  entityId,
  data: { key, value },
});
const eventStarted = (entityId: string, regionId = 'region:vale') => ({
  type: 'world.event.started',
  entityId,
  data: { kind: 'eclipse', regionId },
});
const eventEnded = (entityId: string) => ({ type: 'world.event.ended', entityId, data: {} });

describe('world.flag.set', () => {
  it('sets a flag and keeps the others', () => {
    given(tinyWorld)
      .when([flagSet('gate', 'open'), flagSet('lore', { chapters: [1, 2], hidden: null })])
      .then({
        world: { version: 2, state: { flags: { gate: 'open', lore: { chapters: [1, 2], hidden: null } } } },
      });
  });

  it('overwrites a flag that is already set', () => {
    given(tinyWorld)
      .when([flagSet('gate', 'open'), flagSet('gate', false)])
      .then({ world: { version: 2, state: { flags: { gate: false } } } });
  });

  it('stores a key such as "toString" as plain data, never touching a prototype', () => {
    const result = given(tinyWorld)
      .when(flagSet('toString', 1))
      .then({ world: { version: 1 } });
    const flags = (result.get('world')!.state as { flags: object }).flags;
    expect(Object.getPrototypeOf(flags)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(flags, 'toString')?.value).toBe(1);
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the reserved key %s as BAD_REQUEST', (key) => {
    given(tinyWorld)
      .when(flagSet(key, 1))
      .thenThrows('BAD_REQUEST', /data\.key: is a reserved key/);
  });

  it('refuses a value holding a __proto__ key as BAD_REQUEST', () => {
    const value: unknown = JSON.parse('{"__proto__": {"polluted": true}}');
    given(tinyWorld).when(flagSet('gate', value)).thenThrows('BAD_REQUEST', 'key "__proto__" is not allowed');
  });

  it('refuses any entity but the singleton world as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(flagSet('gate', 1, 'region:vale'))
      .thenThrows('BAD_REQUEST', 'world.flag.set applies to a world, but region:vale is a region');
    given(tinyWorld)
      .when(flagSet('gate', 1, 'world:second'))
      .thenThrows('BAD_REQUEST', '"world:second" is not an entity id');
  });
});

describe('world.event.started', () => {
  it('creates an active world event at version 1', () => {
    given(tinyWorld)
      .when(eventStarted('worldEvent:eclipse'))
      .then({
        'worldEvent:eclipse': {
          kind: 'worldEvent',
          version: 1,
          state: { kind: 'eclipse', regionId: 'region:vale', status: 'active' },
        },
      });
  });

  it('refuses a region that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(eventStarted('worldEvent:eclipse', 'region:nowhere'))
      .thenThrows('UNKNOWN_ENTITY', /data\.regionId of world\.event\.started: region:nowhere does not exist/);
  });

  it('refuses an id that already exists with VALIDATION_FAILED', () => {
    given(tinyWorld)
      .when(eventStarted('worldEvent:fair'))
      .thenThrows('VALIDATION_FAILED', 'creates worldEvent:fair, but it already exists');
  });
});

describe('world.event.ended', () => {
  it('ends the event and keeps where and what it was', () => {
    given(tinyWorld)
      .when(eventEnded('worldEvent:fair'))
      .then({
        'worldEvent:fair': {
          version: 1,
          state: { kind: 'festival', regionId: 'region:hills', status: 'ended' },
        },
      });
  });

  it('refuses an event that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(eventEnded('worldEvent:ghost'))
      .thenThrows('UNKNOWN_ENTITY', 'target of world.event.ended: worldEvent:ghost does not exist');
  });
});
