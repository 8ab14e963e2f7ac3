import { fold, parseEvent } from '../index';
import { entitiesById, given, tinyWorld } from '@lorekeeper/testing';

const sword = 'item:sword';
const created = (entityId: string, ownerId: string, qty = 1) => ({
  type: 'item.created',
  entityId,
  data: { name: 'Lamp', ownerId, qty },
});
const moved = (fromId: string, toId: string, entityId = sword) => ({
  type: 'item.moved',
  entityId,
  data: { fromId, toId },
});
const destroyed = (entityId = sword) => ({ type: 'item.destroyed', entityId, data: {} });

describe('item.created', () => {
  it.each(['player:alice', 'npc:goblin', 'region:vale'])(
    'creates an item held by %s at version 1',
    (ownerId) => {
      given(tinyWorld)
        .when(created('item:lamp', ownerId, 2))
        .then({ 'item:lamp': { kind: 'item', version: 1, state: { name: 'Lamp', ownerId, qty: 2 } } });
    },
  );

  it('refuses an id that already exists with VALIDATION_FAILED', () => {
    given(tinyWorld)
      .when(created(sword, 'player:alice'))
      .thenThrows('VALIDATION_FAILED', /item\.created creates item:sword, but it already exists/);
  });

  it('refuses an owner that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(created('item:lamp', 'player:zed'))
      .thenThrows('UNKNOWN_ENTITY', /data\.ownerId of item\.created: player:zed does not exist/);
  });

  it('refuses an owner that cannot hold items as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(created('item:lamp', 'quest:rats'))
      .thenThrows('BAD_REQUEST', /ownerId: must be the id of a player or npc or region, got quest:rats/);
  });

  it('refuses a quantity below 1 as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(created('item:lamp', 'player:alice', 0))
      .thenThrows('BAD_REQUEST', /data\.qty: Too small/);
  });

  it('lets a later event of the same batch use the new item', () => {
    given(tinyWorld)
      .when([created('item:lamp', 'player:alice'), moved('player:alice', 'player:bob', 'item:lamp')])
      .then({ 'item:lamp': { version: 2, state: { ownerId: 'player:bob' } } });
  });
});

describe('item.moved', () => {
  it.each(['player:bob', 'npc:troll', 'region:far'])('hands the item to %s', (toId) => {
    given(tinyWorld)
      .when(moved('player:alice', toId))
      .then({ [sword]: { version: 1, state: { name: 'Sword', ownerId: toId, qty: 1 } } });
  });

  it('refuses a move from someone who does not hold the item, naming the real holder', () => {
    given(tinyWorld)
      .when(moved('player:bob', 'npc:goblin'))
      .thenThrows('VALIDATION_FAILED', /item:sword is held by player:alice, not by player:bob/);
  });

  it('refuses a second move from the first holder in the same batch', () => {
    given(tinyWorld)
      .when([moved('player:alice', 'player:bob'), moved('player:alice', 'npc:goblin')])
      .thenThrows('VALIDATION_FAILED', /held by player:bob, not by player:alice/);
  });

  it('refuses a destination that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(moved('player:alice', 'player:zed'))
      .thenThrows('UNKNOWN_ENTITY', /data\.toId of item\.moved: player:zed does not exist/);
  });

  it('refuses an item that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(moved('player:alice', 'player:bob', 'item:ghost'))
      .thenThrows('UNKNOWN_ENTITY', /target of item\.moved: item:ghost does not exist/);
  });
});

describe('item.destroyed', () => {
  it('removes the item', () => {
    given(tinyWorld)
      .when(destroyed())
      .then({ [sword]: null });
  });

  it('leaves nothing for a later event to act on', () => {
    given(tinyWorld)
      .when([destroyed(), moved('player:alice', 'player:bob')])
      .thenThrows('UNKNOWN_ENTITY', /target of item\.moved: item:sword does not exist/);
  });

  it('refuses an item that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(destroyed('item:ghost'))
      .thenThrows('UNKNOWN_ENTITY', /item:ghost does not exist/);
  });

  it('drops the item from a fold and leaves the other entities as they were', () => {
    const start = entitiesById(tinyWorld);
    const result = fold(start, [parseEvent(destroyed())]);
    expect(result.has(sword)).toBe(false);
    expect(result.size).toBe(start.size - 1);
    expect(start.has(sword)).toBe(true);
  });
});
