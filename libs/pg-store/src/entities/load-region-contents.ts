import type { Entity } from '@lorekeeper/domain';
import { isNearPlayers, referenceRegistry } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import { ENTITY_COLUMNS, toEntity } from './entity.table';

/**
 * What stands in `regionIds` and becomes live once a player is near them: NPCs, items on the ground,
 * quests and world events there (PROTOCOL.md, "Selective loading"). Regions and players are not
 * included: every region is live for the whole session, and a session's players with what they hold
 * were made live when it started. This is the part of `loadLiveSet` a `player.moved` adds, read
 * through the region and owner indexes only.
 */
export async function loadRegionContents(
  db: Kysely<Database>,
  campaignId: string,
  regionIds: readonly string[],
  registry = referenceRegistry,
): Promise<Entity[]> {
  if (regionIds.length === 0) return [];
  const rows = await db
    .selectFrom('entities')
    .select(ENTITY_COLUMNS)
    .where('campaign_id', '=', campaignId)
    .where('kind', 'not in', ['region', 'player'])
    .where((eb) =>
      eb.or([
        eb('region_id', '=', sql<string>`any(${regionIds}::text[])`),
        eb('owner_id', '=', sql<string>`any(${regionIds}::text[])`),
      ]),
    )
    .execute();
  const context = { playerIds: new Set<string>(), nearRegionIds: new Set(regionIds) };
  return rows.map(toEntity).filter((entity) => isNearPlayers(entity, context, registry));
}
