import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/**
 * A named save slot's header; its entities are rows of snapshot_entities. A snapshot with a base holds
 * only what changed since that snapshot (migration 0014): read it laid over its base.
 */
export interface SnapshotTable {
  id: Generated<number>;
  campaign_id: string;
  name: string;
  /** The campaign's checkpoint when taken: the snapshot is the state after this event. */
  seq: number;
  /** Rows it holds: every entity when it has no base; the changed and removed ones when it has. */
  entity_count: number;
  /** The snapshot this one is laid over, or null when it holds every entity. */
  base_id: ColumnType<number | null, number | null | undefined, never>;
  /** False while a worker's copy beside its flushes is under way; readers see only complete ones. */
  complete: Generated<boolean>;
  created_at: Generated<Date>;
}

/** An entity as a snapshot holds it; in a snapshot with a base, kind, version and state null: removed. */
export interface SnapshotEntityTable {
  snapshot_id: number;
  id: string;
  kind: string | null;
  version: number | null;
  state: ColumnType<unknown, string | null, string | null>;
}

export type SnapshotRow = Selectable<SnapshotTable>;
export type NewSnapshotRow = Insertable<SnapshotTable>;

export interface Snapshot {
  readonly id: number;
  readonly campaignId: string;
  readonly name: string;
  readonly seq: number;
  /** Rows it holds: every entity when it has no base; the changed and removed ones when it has. */
  readonly entityCount: number;
  /** The snapshot it is laid over, or null when it holds every entity. */
  readonly baseId: number | null;
  readonly createdAt: Date;
}

export function toSnapshot(row: SnapshotRow): Snapshot {
  return {
    id: row.id,
    campaignId: row.campaign_id,
    name: row.name,
    seq: row.seq,
    entityCount: row.entity_count,
    baseId: row.base_id,
    createdAt: row.created_at,
  };
}
