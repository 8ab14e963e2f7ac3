import type { Entity } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import type { Database } from '../database';
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

/** A snapshot's entities in pages of `batchSize`, ordered by id (keyset pagination, flat memory). */
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
    yield rows.map((row) => ({ id: row.id, kind: row.kind, version: row.version, state: row.state }));
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]?.id;
  }
}

/** One entity as a snapshot holds it, or undefined when it did not exist then. */
export async function findSnapshotEntity(
  db: Kysely<Database>,
  snapshotId: number,
  entityId: string,
): Promise<Entity | undefined> {
  const row = await db
    .selectFrom('snapshot_entities')
    .select(['id', 'kind', 'version', 'state'])
    .where('snapshot_id', '=', snapshotId)
    .where('id', '=', entityId)
    .executeTakeFirst();
  return row && { id: row.id, kind: row.kind, version: row.version, state: row.state };
}
