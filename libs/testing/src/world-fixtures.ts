import type { Entity, WorldDocument } from '@lorekeeper/domain';
import { WORLD_FORMAT, WORLD_ID } from '@lorekeeper/domain';

// The seeded generator lives in the domain library (the simulated game uses it too).
export { generateWorld, seededRandom, type WorldOptions } from '@lorekeeper/domain';

/** The entities of a document (or a list) keyed by id, the shape `fold` and `selectLiveSet` take. */
export function entitiesById(source: WorldDocument | readonly Entity[]): Map<string, Entity> {
  const entities = 'entities' in source ? source.entities : source;
  return new Map(entities.map((entity) => [entity.id, entity]));
}

/**
 * A hand-written world every test can read at a glance. The regions form a chain vale - hills - far, so
 * for alice (in the vale) the hills are a neighbour and the far region is two steps away.
 */
export const tinyWorld: WorldDocument = deepFreeze({
  format: WORLD_FORMAT,
  campaignId: 'tiny',
  name: 'The Tiny Vale',
  seq: 0,
  entities: [
    entity(WORLD_ID, { flags: {} }),
    entity('region:vale', { name: 'Vale', neighbors: ['region:hills'] }),
    entity('region:hills', { name: 'Hills', neighbors: ['region:vale', 'region:far'] }),
    entity('region:far', { name: 'Far Reaches', neighbors: ['region:hills'] }),
    entity('player:alice', { name: 'Alice', regionId: 'region:vale', gold: 10, xp: 0 }),
    entity('player:bob', { name: 'Bob', regionId: 'region:far', gold: 5, xp: 0 }),
    entity('npc:goblin', { name: 'Goblin', regionId: 'region:hills', hp: 10, status: 'alive' }),
    entity('npc:troll', { name: 'Troll', regionId: 'region:far', hp: 30, status: 'alive' }),
    entity('item:sword', { name: 'Sword', ownerId: 'player:alice', qty: 1 }),
    entity('item:shield', { name: 'Shield', ownerId: 'player:bob', qty: 1 }),
    entity('item:coin', { name: 'Coin', ownerId: 'region:hills', qty: 3 }),
    entity('item:gem', { name: 'Gem', ownerId: 'region:far', qty: 1 }),
    entity('item:amulet', { name: 'Amulet', ownerId: 'npc:goblin', qty: 1 }),
    entity('item:club', { name: 'Club', ownerId: 'npc:troll', qty: 1 }),
    quest('quest:rats', 'region:vale', 'available', null),
    quest('quest:relic', 'region:far', 'active', 'player:alice'),
    quest('quest:bandits', 'region:far', 'active', 'player:bob'),
    quest('quest:old', 'region:far', 'completed', 'player:bob'),
    entity('worldEvent:fair', { kind: 'festival', regionId: 'region:hills', status: 'active' }),
    entity('worldEvent:storm', { kind: 'storm', regionId: 'region:far', status: 'active' }),
  ],
});

function entity(id: string, state: object): Entity {
  return { id, kind: id === WORLD_ID ? 'world' : id.slice(0, id.indexOf(':')), version: 0, state };
}

function quest(id: string, regionId: string, status: string, playerId: string | null): Entity {
  return entity(id, { name: id.slice('quest:'.length), regionId, status, step: 0, playerId });
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
