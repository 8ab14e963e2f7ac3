import { LorekeeperError } from '@lorekeeper/domain';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import { readCheckpoint } from '../campaigns/checkpoint';
import type { Database } from '../database';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/**
 * How a long copy shares Postgres: in chunks of `chunkRows` entities (by id), resting `restRatio` times
 * as long as each chunk took before the next, so a copy of a million entities never holds a core for
 * seconds while flushes wait. `signal` abandons the copy between chunks (the transaction rolls back); a
 * copy of one chunk always completes.
 */
export interface SnapshotPacing {
  readonly chunkRows: number;
  readonly restRatio: number;
  readonly signal?: AbortSignal;
}

/**
 * Save the campaign's durable state under `name`. The copy runs inside Postgres (INSERT ... SELECT), so
 * a million entities never pass through Node, and in a REPEATABLE READ transaction, so the entities and
 * the recorded seq belong to the same checkpoint even while the worker commits (every chunk of a paced
 * copy too). Throws CAMPAIGN_NOT_FOUND, VALIDATION_FAILED when the campaign already has a snapshot of
 * that name, or the signal's reason when a paced copy is abandoned.
 */
export async function createSnapshot(
  db: Kysely<Database>,
  campaignId: string,
  /** The snapshot's name, or a function of the seq it is taken at (the checkpoint it reads). */
  name: string | ((seq: number) => string),
  pacing?: SnapshotPacing,
): Promise<Snapshot> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const checkpoint = await readCheckpoint(trx, campaignId);
      const named = typeof name === 'string' ? name : name(checkpoint.seq);
      return copyIntoSnapshot(trx, campaignId, named, checkpoint.seq, pacing);
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
  pacing?: SnapshotPacing,
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
  const entityCount = pacing
    ? await copyPaced(trx, campaignId, header.id, pacing)
    : await copyAll(trx, campaignId, header.id);
  const row = await trx
    .updateTable('snapshots')
    .set({ entity_count: entityCount })
    .where('id', '=', header.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toSnapshot(row);
}

async function copyAll(trx: Transaction<Database>, campaignId: string, snapshotId: number): Promise<number> {
  const copied = await trx
    .insertInto('snapshot_entities')
    .columns(['snapshot_id', 'id', 'kind', 'version', 'state'])
    .expression(
      trx
        .selectFrom('entities')
        .select([sql<number>`${snapshotId}::bigint`.as('snapshot_id'), 'id', 'kind', 'version', 'state'])
        .where('campaign_id', '=', campaignId),
    )
    .executeTakeFirst();
  return Number(copied.numInsertedOrUpdatedRows ?? 0n);
}

async function copyPaced(
  trx: Transaction<Database>,
  campaignId: string,
  snapshotId: number,
  pacing: SnapshotPacing,
): Promise<number> {
  let after = '';
  let total = 0;
  for (;;) {
    const started = performance.now();
    // The chunk is read once (a CTE referenced twice), inserted, and its size and last id returned.
    const { rows } = await sql<{ copied: number; last: string | null }>`
      with chunk as (
        select id, kind, version, state from entities
        where campaign_id = ${campaignId} and id > ${after}
        order by id
        limit ${pacing.chunkRows}
      ), inserted as (
        insert into snapshot_entities (snapshot_id, id, kind, version, state)
        select ${snapshotId}::bigint, id, kind, version, state from chunk
      )
      select count(*)::int as copied, max(id) as last from chunk`.execute(trx);
    const chunk = rows[0];
    if (!chunk || chunk.copied === 0 || chunk.last === null) return total;
    total += chunk.copied;
    after = chunk.last;
    if (chunk.copied < pacing.chunkRows) return total;
    const rest = (performance.now() - started) * pacing.restRatio;
    await new Promise((resolve) => setTimeout(resolve, rest));
    pacing.signal?.throwIfAborted();
  }
}
