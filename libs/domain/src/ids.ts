/** A campaign id is safe inside a NATS subject token: no dots, no wildcards (PROTOCOL.md, "Transport"). */
export const CAMPAIGN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `<kind>:<name>`, or the singleton `world`. The kind is camelCase so `worldEvent:fair` reads naturally.
 * `world:<name>` is refused: there is one world, and a second would be a `world` entity nobody targets.
 */
export const ENTITY_ID_PATTERN = /^(?:world|(?!world:)[a-z][A-Za-z0-9]{0,31}:[A-Za-z0-9_.-]{1,128})$/;

export const WORLD_ID = 'world';

export function isCampaignId(value: unknown): value is string {
  return typeof value === 'string' && CAMPAIGN_ID_PATTERN.test(value);
}

export function isEntityId(value: unknown): value is string {
  return typeof value === 'string' && ENTITY_ID_PATTERN.test(value);
}

/** The kind an entity id names: `player:alice` is a player, `world` is the world. */
export function kindOf(entityId: string): string {
  const colon = entityId.indexOf(':');
  return colon === -1 ? entityId : entityId.slice(0, colon);
}
