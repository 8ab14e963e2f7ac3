import { LorekeeperError } from '@lorekeeper/domain';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { Checkpoint, DurablePosition } from './campaign.table';
import { archivedOf } from './campaign.table';

/** The campaign's durable checkpoint. Throws CAMPAIGN_NOT_FOUND. Pass a transaction to read it in one. */
export async function readCheckpoint(db: Kysely<Database>, campaignId: string): Promise<Checkpoint> {
  return (await readPosition(db, campaignId)).checkpoint;
}

/** The campaign's checkpoint and how far its archive reaches past it. Throws CAMPAIGN_NOT_FOUND. */
export async function readPosition(db: Kysely<Database>, campaignId: string): Promise<DurablePosition> {
  return toPosition(campaignId, await positionQuery(db, campaignId).executeTakeFirst());
}

/**
 * The position, with the campaign's row locked until `trx` ends. `share`: no flush can commit in the
 * meantime, since a flush's first statement moves the checkpoint (or locks the row) on that row; a flush
 * already past it is waited for, and its position read, so what `trx` reads afterwards is as of this
 * position. `update` also keeps other session starts out, for one that may fold the archive's tail
 * into the entities. Throws CAMPAIGN_NOT_FOUND.
 */
export async function lockPosition(
  trx: Transaction<Database>,
  campaignId: string,
  mode: 'share' | 'update',
): Promise<DurablePosition> {
  const query = positionQuery(trx, campaignId);
  const row = await (mode === 'share' ? query.forShare() : query.forUpdate()).executeTakeFirst();
  return toPosition(campaignId, row);
}

function positionQuery(db: Kysely<Database>, campaignId: string) {
  return db
    .selectFrom('campaigns')
    .select(['checkpoint_seq', 'checkpoint_stream_id', 'archived_seq', 'archived_stream_id'])
    .where('id', '=', campaignId);
}

function toPosition(
  campaignId: string,
  row:
    | {
        checkpoint_seq: number;
        checkpoint_stream_id: string;
        archived_seq: number;
        archived_stream_id: string;
      }
    | undefined,
): DurablePosition {
  if (!row)
    throw new LorekeeperError('CAMPAIGN_NOT_FOUND', `campaign ${campaignId} does not exist`, { campaignId });
  return {
    checkpoint: { seq: row.checkpoint_seq, streamId: row.checkpoint_stream_id },
    archived: archivedOf(row),
  };
}

/**
 * Move the archive's position to `next`, in the transaction that archived the events up to it, whose
 * caller holds the campaign's row (lockPosition 'update') and checked the checkpoint is its own.
 */
export async function advanceArchived(
  trx: Transaction<Database>,
  campaignId: string,
  next: Checkpoint,
): Promise<void> {
  await archivedPositionUpdate(trx, campaignId, next).execute();
}

/**
 * advanceArchived's statement, not run: a major event's flush runs it inside the statement that
 * archives the events (archiveEvents' `alongside`).
 */
export function archivedPositionUpdate(trx: Transaction<Database>, campaignId: string, next: Checkpoint) {
  return trx
    .updateTable('campaigns')
    .set({ archived_seq: next.seq, archived_stream_id: next.streamId, updated_at: sql`now()` })
    .where('id', '=', campaignId);
}

/**
 * Move the checkpoint from `expected` to `next` if, and only if, it is still `expected`: the fence between
 * two workers that both believe they own the campaign (DESIGN.md, invariant 3). Returns false when another
 * writer moved it first; the caller must then roll back its transaction, since its entity writes were
 * based on a stale position. Under READ COMMITTED a concurrent update makes this statement wait and then
 * re-check the condition against the committed row, so exactly one of two racing workers wins.
 */
export async function advanceCheckpoint(
  trx: Transaction<Database>,
  campaignId: string,
  expected: Checkpoint,
  next: Checkpoint,
): Promise<boolean> {
  return (await moveCheckpoint(trx, campaignId, expected, next)) !== undefined;
}

/**
 * advanceCheckpoint, answering with the campaign's `archived_seq` (unchanged by it) when it moved the
 * checkpoint, undefined when fenced: a flush archives only the events past it, in the same round trip.
 */
export async function moveCheckpoint(
  trx: Transaction<Database>,
  campaignId: string,
  expected: Checkpoint,
  next: Checkpoint,
): Promise<number | undefined> {
  if (!Number.isSafeInteger(next.seq) || next.seq < expected.seq) {
    throw new LorekeeperError(
      'INTERNAL',
      `checkpoint of ${campaignId} cannot move back: expected seq ${expected.seq}, next ${next.seq}`,
      { campaignId, expected, next },
    );
  }
  const row = await trx
    .updateTable('campaigns')
    .set({ checkpoint_seq: next.seq, checkpoint_stream_id: next.streamId, updated_at: sql`now()` })
    .where('id', '=', campaignId)
    .where('checkpoint_seq', '=', expected.seq)
    .where('checkpoint_stream_id', '=', expected.streamId)
    .returning('archived_seq')
    .executeTakeFirst();
  return row?.archived_seq;
}
