import type { EncodedEntity, LoadingContext } from '@lorekeeper/domain';
import { WORLD_ID, isNearPlayers, lazyEntity, neighbourhood, referenceRegistry } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import { inReadSnapshot } from '../read-snapshot';
import { ENTITY_COLUMNS, ENTITY_JSON, toEntity } from './entity.table';

/** Who a session is for and what stands near them: what its live set is chosen by. */
export interface LivePlan {
  readonly context: LoadingContext;
  /** The players' regions and their direct neighbours, ordered: the regions the session is near. */
  readonly regions: string[];
  /** Requested ids that name no player of the campaign, in the order given. */
  readonly missingPlayers: string[];
}

export interface LiveSet extends Omit<LivePlan, 'context'> {
  /**
   * What a session for the players makes live (PROTOCOL.md, "Selective loading"), in no particular
   * order, as JSON: Redis takes it as it is, and a session start looks at the state of very few.
   */
  readonly entities: EncodedEntity[];
}

/** Rows per FETCH of the live set: a session start sends each batch to Redis while reading the next. */
export const LIVE_SET_FETCH_ROWS = 2_000;

/**
 * The players named, the regions they stand in and those regions' neighbours: two small reads
 * through the primary key. `playerRegions` says where players stand when Postgres does not know yet:
 * after a `player.moved` that is live in Redis but not checkpointed, the new neighbourhood must load,
 * not the one Postgres remembers.
 */
export async function planLiveSet(
  db: Kysely<Database>,
  campaignId: string,
  playerIds: readonly string[],
  playerRegions: ReadonlyMap<string, string> = new Map(),
): Promise<LivePlan> {
  const requested = [...new Set(playerIds)];
  const players = await db
    .selectFrom('entities')
    .select(['id', 'region_id'])
    .where('campaign_id', '=', campaignId)
    .where('kind', '=', 'player')
    .where('id', '=', sql<string>`any(${requested}::text[])`)
    .execute();
  const standing = players.flatMap((p) => {
    const regionId = playerRegions.get(p.id) ?? p.region_id;
    return regionId === null ? [] : [regionId];
  });
  const regions =
    standing.length === 0
      ? []
      : await db
          .selectFrom('entities')
          .select(ENTITY_COLUMNS)
          .where('campaign_id', '=', campaignId)
          .where('kind', '=', 'region')
          .where('id', '=', sql<string>`any(${standing}::text[])`)
          .execute();
  const regionById = new Map(regions.map((region) => [region.id, toEntity(region)]));
  const context: LoadingContext = {
    playerIds: new Set(players.map((p) => p.id)),
    nearRegionIds: neighbourhood(standing, (id) => regionById.get(id)),
  };
  return {
    context,
    regions: [...context.nearRegionIds].sort(compare),
    missingPlayers: requested.filter((id) => !context.playerIds.has(id)),
  };
}

let cursors = 0;

/**
 * The durable entities the plan makes live, LIVE_SET_FETCH_ROWS rows at a time: every region, the
 * players, what they hold and whatever stands in a region near them. SQL narrows the campaign to
 * candidates through the kind, owner and region indexes (never reading the whole campaign); the
 * domain's isNearPlayers then decides each one, so this can only be as generous as the rule. Read
 * through a cursor, so the caller can hand each batch on while Postgres reads the next; `reader`
 * must be a transaction, which the cursor lives in. Postgres prints each entity as JSON and the rule
 * parses only the states it reads: of a large world's 20,000 regions, none. The next FETCH is sent
 * before a batch is handed on, so Postgres reads while the caller works (a session start's read of
 * 20,000 rows took about 47 ms instead of 60 in a scratch timing, Redis left out).
 */
export async function* liveSetBatches(
  reader: Kysely<Database>,
  campaignId: string,
  plan: LivePlan,
  registry = referenceRegistry,
): AsyncGenerator<EncodedEntity[]> {
  if (!reader.isTransaction) throw new Error('liveSetBatches reads through a cursor: pass a transaction');
  const holders = [...plan.context.playerIds];
  const near = [...plan.context.nearRegionIds];
  const query = reader
    .selectFrom('entities')
    .select(['id', 'kind', 'version', ENTITY_JSON])
    .where('campaign_id', '=', campaignId)
    .where((eb) => {
      // Flat, so Postgres answers each arm from its index (one BitmapOr).
      const notAnchor = eb('kind', 'not in', ['region', 'player']);
      return eb.or([
        eb('kind', '=', 'region'),
        eb.and([eb('kind', '=', 'player'), eb('id', '=', sql<string>`any(${holders}::text[])`)]),
        eb('id', '=', WORLD_ID),
        eb.and([notAnchor, eb('owner_id', '=', sql<string>`any(${holders}::text[])`)]),
        eb.and([notAnchor, eb('region_id', '=', sql<string>`any(${near}::text[])`)]),
      ]);
    });
  const cursor = sql.id(`live_set_${(cursors += 1)}`);
  // Every row is read: plan for all of them, not for the first tenth (Postgres's default for a
  // cursor), which on a 1,000,000-entity campaign chose a sequential scan, 0.6 s instead of 0.03.
  await sql`set local cursor_tuple_fraction = 1`.execute(reader);
  await sql`declare ${cursor} no scroll cursor for ${query}`.execute(reader);
  const fetchNext = () => {
    const fetched = sql<EncodedEntity>`fetch ${sql.raw(String(LIVE_SET_FETCH_ROWS))} from ${cursor}`.execute(
      reader,
    );
    fetched.catch(() => undefined); // awaited in the loop; not an unhandled rejection meanwhile
    return fetched;
  };
  let failed = false;
  try {
    // One FETCH ahead: Postgres reads the next batch while this one is decided on and handed on.
    let next = fetchNext();
    for (;;) {
      const { rows } = await next;
      if (rows.length === 0) return;
      const more = rows.length === LIVE_SET_FETCH_ROWS;
      if (more) next = fetchNext();
      const live = rows.filter((entity) => isNearPlayers(lazyEntity(entity), plan.context, registry));
      if (live.length > 0) yield live;
      if (!more) return;
    }
  } catch (error) {
    failed = true; // the transaction is aborted: it ends with the cursor
    throw error;
  } finally {
    if (!failed) await sql`close ${cursor}`.execute(reader);
  }
}

/**
 * The whole live set for `playerIds` (planLiveSet, then every batch of liveSetBatches), all read in
 * one snapshot: a worker committing in between cannot mix two checkpoints into one answer.
 */
export async function loadLiveSet(
  db: Kysely<Database>,
  campaignId: string,
  playerIds: readonly string[],
  registry = referenceRegistry,
  /** Where players stand when that is newer than Postgres (a live `player.moved`). */
  playerRegions: ReadonlyMap<string, string> = new Map(),
): Promise<LiveSet> {
  return inReadSnapshot(db, async (reader) => {
    const plan = await planLiveSet(reader, campaignId, playerIds, playerRegions);
    const entities: EncodedEntity[] = [];
    for await (const batch of liveSetBatches(reader, campaignId, plan, registry)) entities.push(...batch);
    return { entities, regions: plan.regions, missingPlayers: plan.missingPlayers };
  });
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
