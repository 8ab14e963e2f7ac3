import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { DeadLetter, DeadLetterInput, DeadLetterStatus } from './dead-letter.table';
import { toDeadLetter } from './dead-letter.table';

/**
 * Quarantine a stream entry (DESIGN.md, invariant 9). Outside the failed flush's transaction, so it
 * survives the rollback. Recording the same entry again while its letter is open counts another attempt
 * and keeps the latest error, so a worker that restarts and fails again adds no duplicate.
 */
export async function recordDeadLetter(db: Kysely<Database>, letter: DeadLetterInput): Promise<DeadLetter> {
  const row = await db
    .insertInto('dead_letters')
    .values({
      campaign_id: letter.campaignId,
      stream_id: letter.streamId,
      seq: letter.seq,
      payload: JSON.stringify(letter.payload ?? null),
      error: letter.error,
    })
    .onConflict((oc) =>
      oc
        .columns(['campaign_id', 'stream_id'])
        // Literal, not a parameter: Postgres matches the partial unique index by its predicate at plan time.
        .where(sql<boolean>`status = 'open'`)
        .doUpdateSet((eb) => ({
          attempts: sql<number>`${eb.ref('dead_letters.attempts')} + 1`,
          error: eb.ref('excluded.error'),
          payload: eb.ref('excluded.payload'),
        })),
    )
    .returningAll()
    .executeTakeFirstOrThrow();
  return toDeadLetter(row);
}

export interface DeadLetterFilter {
  readonly campaignId?: string;
  readonly status?: DeadLetterStatus;
}

/** Dead letters, oldest first. */
export async function listDeadLetters(
  db: Kysely<Database>,
  filter: DeadLetterFilter = {},
): Promise<DeadLetter[]> {
  let query = db.selectFrom('dead_letters').selectAll().orderBy('id');
  if (filter.campaignId !== undefined) query = query.where('campaign_id', '=', filter.campaignId);
  if (filter.status !== undefined) query = query.where('status', '=', filter.status);
  return (await query.execute()).map(toDeadLetter);
}

/**
 * Close an open dead letter as retried or skipped, recording who did it (and why, when given). Returns false when the letter
 * does not exist or was already resolved.
 */
export async function resolveDeadLetter(
  db: Kysely<Database>,
  id: number,
  resolution: Exclude<DeadLetterStatus, 'open'>,
  resolvedBy: string,
  reason: string | null = null,
): Promise<boolean> {
  const result = await db
    .updateTable('dead_letters')
    .set({
      status: resolution,
      resolved_at: sql<Date>`now()`,
      resolved_by: resolvedBy,
      resolution_reason: reason,
    })
    .where('id', '=', id)
    .where('status', '=', 'open')
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
