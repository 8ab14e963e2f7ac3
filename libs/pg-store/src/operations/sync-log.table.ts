import type { Generated, Insertable, Selectable } from 'kysely';

/** Why a flush ran (DESIGN.md, "Save points"). Stored as free text so a new trigger needs no migration. */
export type SyncTrigger =
  | 'autosave'
  | 'major'
  | 'manual'
  | 'session-end'
  | 'backlog'
  | 'shutdown'
  /** A session start folded the archive's tail into the entities (foldArchivedTail). */
  | 'archived-tail';

export interface SyncLogTable {
  id: Generated<number>;
  campaign_id: string;
  from_seq: number;
  to_seq: number;
  entities_written: Generated<number>;
  entities_deleted: Generated<number>;
  events_archived: Generated<number>;
  duration_ms: number;
  trigger: string;
  error: string | null;
  created_at: Generated<Date>;
}

export type SyncLogRow = Selectable<SyncLogTable>;
export type NewSyncLogRow = Insertable<SyncLogTable>;

/** One flush of one campaign, successful or not. */
export interface SyncRecord {
  readonly campaignId: string;
  /** First seq the flush covered; greater than toSeq when there was nothing new. */
  readonly fromSeq: number;
  /** Last seq the flush covered: the checkpoint it committed (or tried to). */
  readonly toSeq: number;
  readonly entitiesWritten: number;
  readonly entitiesDeleted: number;
  readonly eventsArchived: number;
  readonly durationMs: number;
  readonly trigger: SyncTrigger;
  /** Why it failed; null or absent for a committed flush. */
  readonly error?: string | null;
}

export interface SyncLogEntry extends SyncRecord {
  readonly id: number;
  readonly error: string | null;
  readonly createdAt: Date;
}

export function toSyncLogEntry(row: SyncLogRow): SyncLogEntry {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    fromSeq: row.from_seq,
    toSeq: row.to_seq,
    entitiesWritten: row.entities_written,
    entitiesDeleted: row.entities_deleted,
    eventsArchived: row.events_archived,
    durationMs: row.duration_ms,
    trigger: row.trigger as SyncTrigger,
    error: row.error,
    createdAt: row.created_at,
  };
}
