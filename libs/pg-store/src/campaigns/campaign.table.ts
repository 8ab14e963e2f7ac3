import type { Generated, Insertable, Selectable } from 'kysely';

/** 'quarantined': a poison event stopped the worker for this campaign until an operator resolves it. */
export type CampaignStatus = 'active' | 'quarantined';

export interface CampaignTable {
  id: string;
  name: string;
  status: Generated<CampaignStatus>;
  checkpoint_seq: Generated<number>;
  checkpoint_stream_id: Generated<string>;
  /** How far the archive reaches past the checkpoint (migration 0010); at or below it means nothing past. */
  archived_seq: Generated<number>;
  archived_stream_id: Generated<string>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export type CampaignRow = Selectable<CampaignTable>;
export type NewCampaignRow = Insertable<CampaignTable>;

/** The durable position: every event up to `seq` (Redis stream id `streamId`) is reflected in Postgres. */
export interface Checkpoint {
  readonly seq: number;
  readonly streamId: string;
}

/**
 * What Postgres holds of a campaign: the entities as of `checkpoint`, and the archive up to `archived`
 * (never behind the checkpoint). Between a flush for a major event and the next entity flush,
 * `archived` is ahead: the state there is the entities plus the fold of the archived events after the
 * checkpoint, which is how a session start after Redis lost the campaign builds it
 * (foldArchivedTail). Everything up to `archived.seq` is durable.
 */
export interface DurablePosition {
  readonly checkpoint: Checkpoint;
  readonly archived: Checkpoint;
}

/** The archive's position from a campaigns row: the checkpoint unless the archive reaches past it. */
export function archivedOf(row: {
  checkpoint_seq: number;
  checkpoint_stream_id: string;
  archived_seq: number;
  archived_stream_id: string;
}): Checkpoint {
  return row.archived_seq > row.checkpoint_seq
    ? { seq: row.archived_seq, streamId: row.archived_stream_id }
    : { seq: row.checkpoint_seq, streamId: row.checkpoint_stream_id };
}

export const INITIAL_CHECKPOINT: Checkpoint = Object.freeze({ seq: 0, streamId: '0-0' });

export interface Campaign {
  readonly id: string;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly checkpoint: Checkpoint;
  /**
   * Where the archive ends when a flush for a major event took it past the checkpoint; the checkpoint
   * otherwise. Every persistent event up to here is in Postgres (see DurablePosition).
   */
  readonly archived: Checkpoint;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    checkpoint: { seq: row.checkpoint_seq, streamId: row.checkpoint_stream_id },
    archived: archivedOf(row),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
