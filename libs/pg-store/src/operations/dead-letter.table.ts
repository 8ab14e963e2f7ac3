import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** 'open' until an operator retries the entry or skips it; only an open letter holds its campaign. */
export type DeadLetterStatus = 'open' | 'retried' | 'skipped';

export interface DeadLetterTable {
  id: Generated<number>;
  campaign_id: string;
  stream_id: string;
  seq: number | null;
  payload: ColumnType<unknown, string, string>;
  error: string;
  attempts: Generated<number>;
  status: Generated<DeadLetterStatus>;
  created_at: Generated<Date>;
  resolved_at: Date | null;
  resolved_by: string | null;
  /** Why the operator resolved it (skip requires one). */
  resolution_reason: string | null;
}

export type DeadLetterRow = Selectable<DeadLetterTable>;
export type NewDeadLetterRow = Insertable<DeadLetterTable>;

/** A stream entry the worker could not apply, with why. */
export interface DeadLetterInput {
  readonly campaignId: string;
  readonly streamId: string;
  /** Null when the entry was too broken to carry one. */
  readonly seq: number | null;
  /** The entry as read; wrap something that is not JSON as {raw: "..."}. */
  readonly payload: unknown;
  readonly error: string;
}

export interface DeadLetter extends DeadLetterInput {
  readonly id: number;
  readonly attempts: number;
  readonly status: DeadLetterStatus;
  readonly createdAt: Date;
  readonly resolvedAt: Date | null;
  readonly resolvedBy: string | null;
  readonly resolutionReason: string | null;
}

export function toDeadLetter(row: DeadLetterRow): DeadLetter {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    streamId: row.stream_id,
    seq: row.seq,
    payload: row.payload,
    error: row.error,
    attempts: row.attempts,
    status: row.status,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
    resolvedBy: row.resolved_by,
    resolutionReason: row.resolution_reason,
  };
}
