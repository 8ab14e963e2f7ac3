import type { Generated, Insertable, Selectable } from 'kysely';

/** 'quarantined': a poison event stopped the worker for this campaign until an operator resolves it. */
export type CampaignStatus = 'active' | 'quarantined';

export interface CampaignTable {
  id: string;
  name: string;
  status: Generated<CampaignStatus>;
  checkpoint_seq: Generated<number>;
  checkpoint_stream_id: Generated<string>;
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

export const INITIAL_CHECKPOINT: Checkpoint = Object.freeze({ seq: 0, streamId: '0-0' });

export interface Campaign {
  readonly id: string;
  readonly name: string;
  readonly status: CampaignStatus;
  readonly checkpoint: Checkpoint;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    checkpoint: { seq: row.checkpoint_seq, streamId: row.checkpoint_stream_id },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
