import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Checkpoint } from '../campaigns/campaign.table';
import { advanceCheckpoint } from '../campaigns/checkpoint';
import type { Database } from '../database';
import type { DeadLetter } from './dead-letter.table';
import { toDeadLetter } from './dead-letter.table';

export type RetryOutcome =
  | { readonly kind: 'retried'; readonly letters: readonly DeadLetter[]; readonly wasQuarantined: boolean }
  | { readonly kind: 'campaign-not-found' }
  /** Neither quarantined nor holding an open dead letter: there is nothing to retry. */
  | { readonly kind: 'nothing-to-retry' };

/**
 * Mark the campaign's open dead letters retried and set it back to 'active', in one transaction, so a
 * worker adopts it again and folds the entry anew. An entry that still fails quarantines it again,
 * as a new dead letter: a retry never skips anything.
 */
export async function retryCampaign(
  db: Kysely<Database>,
  campaignId: string,
  resolvedBy: string,
  reason: string | null = null,
): Promise<RetryOutcome> {
  return db.transaction().execute(async (trx) => {
    const campaign = await lockCampaign(trx, campaignId);
    if (!campaign) return { kind: 'campaign-not-found' };
    const letters = await trx
      .updateTable('dead_letters')
      .set({
        status: 'retried',
        resolved_at: sql<Date>`now()`,
        resolved_by: resolvedBy,
        resolution_reason: reason,
      })
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'open')
      .returningAll()
      .execute();
    const wasQuarantined = campaign.status === 'quarantined';
    if (!wasQuarantined && letters.length === 0) return { kind: 'nothing-to-retry' };
    await setActive(trx, campaignId);
    return { kind: 'retried', letters: letters.map(toDeadLetter), wasQuarantined };
  });
}

export interface SkipRequest {
  readonly campaignId: string;
  readonly seq: number;
  readonly resolvedBy: string;
  readonly reason: string;
}

export type SkipOutcome =
  | { readonly kind: 'skipped'; readonly letter: DeadLetter; readonly checkpoint: Checkpoint }
  | { readonly kind: 'campaign-not-found' }
  | { readonly kind: 'not-quarantined' }
  | { readonly kind: 'no-open-letter' }
  /** The entry is not the one right after the checkpoint, so skipping it would skip others too. */
  | { readonly kind: 'not-next'; readonly checkpointSeq: number };

/**
 * Skip one quarantined entry: in one transaction, move the checkpoint from `seq - 1` to `seq` by
 * compare-and-set (the same fence a worker's flush uses), mark the dead letter skipped with who and
 * why, and set the campaign active. A worker then adopts the campaign at the new checkpoint and treats
 * the entry as already applied. Only the entry right after the checkpoint can be skipped: everything
 * before a poison entry is flushed before the campaign is quarantined, so anything else means the
 * entries in between are not durable, and moving past them would skip them silently.
 */
export async function skipDeadLetter(db: Kysely<Database>, request: SkipRequest): Promise<SkipOutcome> {
  const { campaignId, seq } = request;
  return db.transaction().execute(async (trx) => {
    const campaign = await lockCampaign(trx, campaignId);
    if (!campaign) return { kind: 'campaign-not-found' };
    if (campaign.status !== 'quarantined') return { kind: 'not-quarantined' };
    const open = await trx
      .selectFrom('dead_letters')
      .selectAll()
      .where('campaign_id', '=', campaignId)
      .where('status', '=', 'open')
      // A letter too broken to carry a seq still has its `<seq>-0` stream id.
      .where((eb) => eb.or([eb('seq', '=', seq), eb('stream_id', '=', `${seq}-0`)]))
      .executeTakeFirst();
    if (!open) return { kind: 'no-open-letter' };
    const expected = { seq: campaign.checkpoint_seq, streamId: campaign.checkpoint_stream_id };
    const next = { seq, streamId: open.stream_id };
    if (expected.seq !== seq - 1 || !(await advanceCheckpoint(trx, campaignId, expected, next))) {
      return { kind: 'not-next', checkpointSeq: expected.seq };
    }
    const letter = await trx
      .updateTable('dead_letters')
      .set({
        status: 'skipped',
        resolved_at: sql<Date>`now()`,
        resolved_by: request.resolvedBy,
        resolution_reason: request.reason,
      })
      .where('id', '=', open.id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await setActive(trx, campaignId);
    return { kind: 'skipped', letter: toDeadLetter(letter), checkpoint: next };
  });
}

/** The campaign row, locked until the transaction ends, so two operators cannot resolve it at once. */
function lockCampaign(trx: Transaction<Database>, campaignId: string) {
  return trx
    .selectFrom('campaigns')
    .select(['status', 'checkpoint_seq', 'checkpoint_stream_id'])
    .where('id', '=', campaignId)
    .forUpdate()
    .executeTakeFirst();
}

async function setActive(trx: Transaction<Database>, campaignId: string): Promise<void> {
  await trx
    .updateTable('campaigns')
    .set({ status: 'active', updated_at: sql<Date>`now()` })
    .where('id', '=', campaignId)
    .execute();
}
