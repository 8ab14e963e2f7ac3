import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** A named save slot's header; its entities are rows of snapshot_entities. */
export interface SnapshotTable {
  id: Generated<number>;
  campaign_id: string;
  name: string;
  /** The campaign's checkpoint when taken: the snapshot is the state after this event. */
  seq: number;
  entity_count: number;
  /** False while a worker's copy beside its flushes is under way; readers see only complete ones. */
  complete: Generated<boolean>;
  created_at: Generated<Date>;
}

export interface SnapshotEntityTable {
  snapshot_id: number;
  id: string;
  kind: string;
  version: number;
  state: ColumnType<unknown, string, string>;
}

export type SnapshotRow = Selectable<SnapshotTable>;
export type NewSnapshotRow = Insertable<SnapshotTable>;

export interface Snapshot {
  readonly id: number;
  readonly campaignId: string;
  readonly name: string;
  readonly seq: number;
  readonly entityCount: number;
  readonly createdAt: Date;
}

export function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    name: row.name,
    seq: row.seq,
    entityCount: row.entity_count,
    createdAt: row.created_at,
  };
}
