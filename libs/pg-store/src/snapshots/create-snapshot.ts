import { LorekeeperError } from '@lorekeeper/domain';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import { readCheckpoint } from '../campaigns/checkpoint';
import type { Database } from '../database';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/**
 * Save the campaign's durable state under `name`, in one transaction. The copy runs inside Postgres
 * (one INSERT ... SELECT), so a million entities never pass through Node, and in a REPEATABLE READ
 * transaction, so the entities and the recorded seq belong to the same checkpoint even while the worker
 * commits. For a snapshot taken beside a busy worker, see copy-beside-flushes.ts. Throws
 * CAMPAIGN_NOT_FOUND, or VALIDATION_FAILED when the campaign already has a snapshot of that name.
 */
export async function createSnapshot(
  db: Kysely<Database>,
  campaignId: string,
  name: string,
): Promise<Snapshot> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const checkpoint = await readCheckpoint(trx, campaignId);
      return copyIntoSnapshot(trx, campaignId, name, checkpoint.seq);
    });
}

/** The name of the snapshot every campaign gets at creation: its world document, the base of every replay. */
export const CREATED_SNAPSHOT = 'created';

/**
 * Record the world a campaign was created with as its first snapshot (seq 0), in the creating
 * transaction, so `state --at` and `verify` can fold from the very start.
 */
export async function createInitialSnapshot(
  trx: Transaction<Database>,
  campaignId: string,
): Promise<Snapshot> {
  return copyIntoSnapshot(trx, campaignId, CREATED_SNAPSHOT, 0);
}

async function copyIntoSnapshot(
  trx: Transaction<Database>,
  campaignId: string,
  name: string,
  seq: number,
): Promise<Snapshot> {
  const header = await trx
    .insertInto('snapshots')
    .values({ campaign_id: campaignId, name, seq, entity_count: 0 })
    .onConflict((oc) => oc.columns(['campaign_id', 'name']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (!header) {
    throw new LorekeeperError(
      'VALIDATION_FAILED',
      `campaign ${campaignId} already has a snapshot named "${name}"`,
      {
        campaignId,
        name,
      },
    );
  }
  const entityCount = await copyEntities(trx, campaignId, header.id);
  const row = await trx
    .updateTable('snapshots')
    .set({ entity_count: entityCount })
    .where('id', '=', header.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSnapshot(row);
}

/**
 * Copy the campaign's entities into a snapshot, inside Postgres: all of them, or those of `only` (ids
 * that are gone are skipped). Returns the rows copied.
 */
export async function copyEntities(
  trx: Transaction<Database>,
  campaignId: string,
  snapshotId: number,
  only?: readonly string[],
): Promise<number> {
  let entities = trx
    .selectFrom('entities')
    .select([sql<number>`${snapshotId}::bigint`.as('snapshot_id'), 'id', 'kind', 'version', 'state'])
    .where('campaign_id', '=', campaignId);
  if (only) entities = entities.where('id', '=', sql<string>`any(${only}::text[])`);
  const copied = await trx
    .insertInto('snapshot_entities')
    .columns(['snapshot_id', 'id', 'kind', 'version', 'state'])
    .expression(entities)
    .executeTakeFirst();
  return Number(copied.numInsertedOrUpdatedRows ?? 0n);
}
