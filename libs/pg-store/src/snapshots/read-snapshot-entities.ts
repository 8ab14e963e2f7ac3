import type { Entity } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import { inReadSnapshot } from '../read-snapshot';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/** The latest snapshot taken at or before `seq` (the base to fold forward from), or undefined. */
export async function findSnapshotAtOrBefore(
  db: Kysely<Database>,
  campaignId: string,
  seq: number,
): Promise<Snapshot | undefined> {
  const row = await db
    .selectFrom('snapshots')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .where('complete', '=', true)
    .where('seq', '<=', seq)
    .orderBy('seq', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row && toSnapshot(row);
}

/** A snapshot's row for an entity gone by its seq (only a snapshot with a base holds these). */
interface RemovedEntity {
  readonly id: string;
  readonly removed: true;
}

/**
 * The entities of a snapshot with no base (the `created` one, say) in pages of `batchSize`, ordered by
 * id (keyset pagination, flat memory). For a snapshot's whole state, chain and all, see loadSnapshotState.
 */
export async function* streamSnapshotEntities(
  db: Kysely<Database>,
  snapshotId: number,
  batchSize = 5_000,
): AsyncGenerator<Entity[], void, undefined> {
  let after: string | undefined;
  for (;;) {
    let query = db
      .selectFrom('snapshot_entities')
      .select(['id', 'kind', 'version', 'state'])
      .where('snapshot_id', '=', snapshotId)
      .orderBy('id')
      .limit(batchSize);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows.map(toEntity).filter((row): row is Entity => !('removed' in row));
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]?.id;
  }
}

interface SnapshotEntityRow {
  readonly id: string;
  readonly kind: string | null;
  readonly version: number | null;
  readonly state: unknown;
}

/** A row that holds an entity rather than its removal; the row then has the Entity's own fields. */
function isEntityRow(row: SnapshotEntityRow): row is SnapshotEntityRow & Entity {
  return row.kind !== null && row.version !== null;
}

function toEntity(row: SnapshotEntityRow): Entity | RemovedEntity {
  if (!isEntityRow(row)) return { id: row.id, removed: true };
  return { id: row.id, kind: row.kind, version: row.version, state: row.state };
}

/**
 * One entity as a snapshot's state has it (the latest of its chain holding it), or undefined when it did
 * not exist then.
 */
export async function findSnapshotEntity(
  db: Kysely<Database>,
  snapshotId: number,
  entityId: string,
): Promise<Entity | undefined> {
  const chain = await snapshotChain(db, snapshotId);
  const rows = await db
    .selectFrom('snapshot_entities')
    .select(['snapshot_id', 'id', 'kind', 'version', 'state'])
    .where(
      'snapshot_id',
      'in',
      chain.map((link) => link.id),
    )
    .where('id', '=', entityId)
    .execute();
  // The latest of the chain that holds it decides.
  const bySnapshot = new Map(rows.map((r) => [r.snapshot_id, r]));
  const row = chain
    .map((link) => bySnapshot.get(link.id))
    .reverse()
    .find((found) => found !== undefined);
  if (!row) return undefined;
  const entity = toEntity(row);
  return 'removed' in entity ? undefined : entity;
}

/** A snapshot of the chain that makes up one snapshot's state: the one with no base first. */
export interface SnapshotLink {
  readonly id: number;
  readonly seq: number;
  /** Rows it holds. */
  readonly rows: number;
  readonly baseId: number | null;
}

/**
 * The snapshots whose rows make up `snapshotId`'s state, oldest first: the one holding every entity,
 * then each holding what changed since the one before, ending with `snapshotId` itself.
 */
export async function snapshotChain(db: Kysely<Database>, snapshotId: number): Promise<SnapshotLink[]> {
  const { rows } = await sql<{ id: number; seq: number; rows: number; base_id: number | null }>`
    with recursive chain as (
      select id, seq, entity_count, base_id, 0 as depth from snapshots where id = ${snapshotId}
      union all
      select s.id, s.seq, s.entity_count, s.base_id, c.depth + 1
        from snapshots s join chain c on s.id = c.base_id
    )
    select id, seq, entity_count as rows, base_id from chain order by depth desc`.execute(db);
  return rows.map((row) => ({ id: row.id, seq: row.seq, rows: row.rows, baseId: row.base_id }));
}

/** Rows fetched per round trip while loading a snapshot's state. */
const FETCH_ROWS = 5_000;

/**
 * A snapshot's state: its chain's rows laid over one another in order, so an entity ends as the
 * latest snapshot holding it has it, and one a later snapshot removed is gone. Each snapshot is read
 * by one query through a cursor, a page per fetch, in no particular order. Not by keyset pages: those
 * need the planner to pick an ordered index scan, and on a table Postgres has no statistics for yet (a
 * first large copy before autovacuum's analyze) it picked a bitmap scan and a sort of the rest of the
 * snapshot for every page, 40-48 s against 3.3-3.9 s for 1,020,000 entities (bench/results/NOTES.md).
 */
export async function loadSnapshotState(
  db: Kysely<Database>,
  snapshotId: number,
  /** Called after each page with the rows read so far and the chain's rows in all (for a progress bar). */
  onRows?: (read: number, total: number) => void,
): Promise<Map<string, Entity>> {
  const state = new Map<string, Entity>();
  // A cursor lives in a transaction: the caller's (verify reads in one), or a read snapshot of its own.
  await inReadSnapshot(db, async (trx) => {
    const chain = await snapshotChain(trx, snapshotId);
    const total = chain.reduce((sum, link) => sum + link.rows, 0);
    let read = 0;
    for (const link of chain) {
      await sql`declare snapshot_rows no scroll cursor for
                  select id, kind, version, state from snapshot_entities where snapshot_id = ${link.id}`.execute(
        trx,
      );
      const fetch = () =>
        sql<SnapshotEntityRow>`fetch forward ${sql.lit(FETCH_ROWS)} from snapshot_rows`.execute(trx);
      // The next page is asked for before this one is laid over the state, so Postgres reads it
      // meanwhile (node-pg sends it as soon as this one's answer is in).
      for (let next = fetch(); ;) {
        const { rows } = await next;
        if (rows.length === FETCH_ROWS) next = fetch();
        // A row holding an entity is one ({id, kind, version, state}): the state keeps the row itself
        // rather than a copy (14% less heap held for the capacity world at scale 0.3, NOTES.md).
        for (const row of rows) {
          if (isEntityRow(row)) state.set(row.id, row);
          else state.delete(row.id);
        }
        read += rows.length;
        onRows?.(read, total);
        if (rows.length < FETCH_ROWS) break;
      }
      await sql`close snapshot_rows`.execute(trx);
    }
  });
  return state;
}
