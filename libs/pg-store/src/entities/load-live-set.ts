import type { Entity, LoadingContext } from '@lorekeeper/domain';
import { WORLD_ID, isNearPlayers, neighbourhood, referenceRegistry } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import { inReadSnapshot } from '../read-snapshot';
import { ENTITY_COLUMNS, toEntity } from './entity.table';

export interface LiveSet {
  /** What a session for the players makes live (PROTOCOL.md, "Selective loading"), ordered by id. */
  readonly entities: Entity[];
  /** The players' regions and their direct neighbours, ordered: the regions the session is near. */
  readonly regions: string[];
  /** Requested ids that name no player of the campaign, in the order given. */
  readonly missingPlayers: string[];
}

/**
 * The durable entities near `playerIds`. SQL narrows the campaign to candidates through the kind, owner
 * and region indexes (never reading the whole campaign); the domain's isNearPlayers then decides each one,
 * so this can only be as generous as the rule. All reads share one snapshot.
 *
 * `playerRegions` says where players stand when Postgres does not know yet: after a `player.moved` that
 * is live in Redis but not checkpointed, the new neighbourhood must load, not the one Postgres remembers.
 */
export async function loadLiveSet(
  db: Kysely<Database>,
  campaignId: string,
  playerIds: readonly string[],
  registry = referenceRegistry,
  /** Where players stand when that is newer than Postgres (a live `player.moved`). */
  playerRegions: ReadonlyMap<string, string> = new Map(),
): Promise<LiveSet> {
  const requested = [...new Set(playerIds)];
  return inReadSnapshot(db, async (reader) => {
    // Every region is live, and the players' rows say where they stand.
    const anchors = await reader
      .selectFrom('entities')
      .select([...ENTITY_COLUMNS, 'region_id'])
      .where('campaign_id', '=', campaignId)
      .where((eb) =>
        eb.or([
          eb('kind', '=', 'region'),
          eb.and([eb('kind', '=', 'player'), eb('id', '=', sql<string>`any(${requested}::text[])`)]),
        ]),
      )
      .execute();
    const regionById = new Map(anchors.filter((r) => r.kind === 'region').map((r) => [r.id, toEntity(r)]));
    const players = anchors.filter((r) => r.kind === 'player');
    const context: LoadingContext = {
      playerIds: new Set(players.map((p) => p.id)),
      nearRegionIds: neighbourhood(
        players.flatMap((p) => {
          const regionId = playerRegions.get(p.id) ?? p.region_id;
          return regionId === null ? [] : [regionId];
        }),
        (id) => regionById.get(id),
      ),
    };

    // What the players hold, and whatever stands in a region near them: a superset of the rule's choice.
    const holders = [...context.playerIds];
    const near = [...context.nearRegionIds];
    const candidates = await reader
      .selectFrom('entities')
      .select(ENTITY_COLUMNS)
      .where('campaign_id', '=', campaignId)
      .where('kind', 'not in', ['region', 'player'])
      .where((eb) =>
        eb.or([
          eb('id', '=', WORLD_ID),
          eb('owner_id', '=', sql<string>`any(${holders}::text[])`),
          eb('region_id', '=', sql<string>`any(${near}::text[])`),
        ]),
      )
      .execute();

    const entities = [...anchors.map(toEntity), ...candidates.map(toEntity)]
      .filter((entity) => isNearPlayers(entity, context, registry))
      .sort((a, b) => compare(a.id, b.id));
    return {
      entities,
      regions: near.sort(compare),
      missingPlayers: requested.filter((id) => !context.playerIds.has(id)),
    };
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
