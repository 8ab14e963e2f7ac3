import type { CampaignTable } from './campaigns/campaign.table';
import type { EntityTable } from './entities/entity.table';
import type { EventChunkTable, EventEntityRangeTable, EventTable } from './events/event.table';
import type { DeadLetterTable } from './operations/dead-letter.table';
import type { SyncLogTable } from './operations/sync-log.table';
import type { SnapshotEntityTable, SnapshotTable } from './snapshots/snapshot.table';

/** The schema as the migrations leave it at their latest version (migrations/src is the truth). */
export interface Database {
  campaigns: CampaignTable;
  entities: EntityTable;
  event_chunks: EventChunkTable;
  event_entity_ranges: EventEntityRangeTable;
  /** A read-only view: the chunks as one row per event (migration 0007). */
  events: EventTable;
  snapshots: SnapshotTable;
  snapshot_entities: SnapshotEntityTable;
  dead_letters: DeadLetterTable;
  sync_log: SyncLogTable;
}
