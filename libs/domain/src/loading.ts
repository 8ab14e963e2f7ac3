import type { Entity } from './entity';
import { WORLD_ID, kindOf } from './ids';
import type { QuestState, RegionState } from './reference/states';
import type { DomainRegistry } from './registry';
import { referenceRegistry } from './reference/catalogue';

/** What decides whether an entity is near the named players (PROTOCOL.md, "Selective loading"). */
export interface LoadingContext {
  readonly playerIds: ReadonlySet<string>;
  /** The players' regions and their direct neighbours. */
  readonly nearRegionIds: ReadonlySet<string>;
}

/** The players' regions plus each one's direct neighbours. */
export function neighbourhood(
  playerRegionIds: Iterable<string>,
  regionById: (regionId: string) => Entity | undefined,
): Set<string> {
  const near = new Set<string>();
  for (const regionId of playerRegionIds) {
    near.add(regionId);
    const region = regionById(regionId);
    for (const neighbour of (region?.state as RegionState | undefined)?.neighbors ?? []) near.add(neighbour);
  }
  return near;
}

/**
 * The selective-loading rule: the world, every region, the players, the items they own, their active
 * quests, and every NPC, item on the ground, quest and world event in a player's region or a neighbour.
 * Callers prefilter with an index (SQL); this function is the truth they are checked against.
 */
export function isNearPlayers(
  entity: Entity,
  context: LoadingContext,
  registry: DomainRegistry = referenceRegistry,
): boolean {
  const definition = registry.kind(entity.kind);
  if (!definition || definition.persistence === 'transient') return false;
  switch (entity.kind) {
    case 'world':
    case 'region':
      return true;
    case 'player':
      return context.playerIds.has(entity.id);
    case 'quest': {
      const quest = entity.state as QuestState;
      const theirs =
        quest.status === 'active' && quest.playerId !== null && context.playerIds.has(quest.playerId);
      return theirs || context.nearRegionIds.has(quest.regionId);
    }
    case 'item': {
      const ownerId = definition.ownerOf(entity.state);
      if (ownerId === null) return false;
      return (
        context.playerIds.has(ownerId) || (kindOf(ownerId) === 'region' && context.nearRegionIds.has(ownerId))
      );
    }
    default: {
      // npc, worldEvent, and any kind a game registers that stands in a region.
      const regionId = definition.regionOf(entity.state);
      return regionId !== null && context.nearRegionIds.has(regionId);
    }
  }
}

/**
 * Of what the rule makes live, what the players are likely to touch soon: all of it but the regions
 * away from them, which are live only because every region is. A session start caches these in the
 * session service (its LiveCache) and leaves the far regions to be read from Redis when first used.
 */
export function isAroundPlayers(entity: Pick<Entity, 'id' | 'kind'>, context: LoadingContext): boolean {
  return entity.kind !== 'region' || context.nearRegionIds.has(entity.id);
}

/**
 * What decides the live set of a session for `playerIds`, over an in-memory set of entities. Ids that
 * are not players there are left out.
 */
export function loadingContext(
  entities: ReadonlyMap<string, Entity>,
  playerIds: Iterable<string>,
): LoadingContext {
  const players = new Set([...playerIds].filter((id) => entities.get(id)?.kind === 'player'));
  const playerRegions = [...players].map((id) => (entities.get(id)?.state as { regionId: string }).regionId);
  return { playerIds: players, nearRegionIds: neighbourhood(playerRegions, (id) => entities.get(id)) };
}

/**
 * The ids a session for `playerIds` makes live, over an in-memory set of entities. Unknown player ids
 * are ignored here; the session service reports them.
 */
export function selectLiveSet(
  entities: ReadonlyMap<string, Entity>,
  playerIds: Iterable<string>,
  registry: DomainRegistry = referenceRegistry,
): Set<string> {
  const context = loadingContext(entities, playerIds);
  const live = new Set<string>();
  for (const entity of entities.values()) {
    if (isNearPlayers(entity, context, registry)) live.add(entity.id);
  }
  if (entities.has(WORLD_ID)) live.add(WORLD_ID);
  return live;
}
