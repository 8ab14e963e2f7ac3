// The one public entry of @lorekeeper/pg-store: PostgreSQL access as plain functions over Kysely.
export type { Database } from './database';
export { BULK_CHUNK_ROWS } from './chunks';
export { inReadSnapshot } from './read-snapshot';

export { createDatabase, type DatabaseOptions } from './connection/create-database';
export { connectDatabase } from './connection/connect-database';
export {
  databaseExists,
  databaseNameOf,
  dropDatabase,
  ensureDatabaseExists,
  withDatabaseName,
} from './connection/server-databases';

export { migrateDown, migrateToLatest, type MigrateDownOptions } from './migrations/migrate';
export { migrationNames, migrationStatus, type MigrationStatus } from './migrations/migration-status';
export type { MigrationReport } from './migrations/migrator';

export {
  INITIAL_CHECKPOINT,
  type Campaign,
  type CampaignRow,
  type CampaignStatus,
  type CampaignTable,
  type Checkpoint,
  type DurablePosition,
  type NewCampaignRow,
} from './campaigns/campaign.table';
export { insertCampaign } from './campaigns/insert-campaign';
export { createCampaignFromWorld } from './campaigns/create-campaign';
export { findCampaign } from './campaigns/find-campaign';
export {
  advanceArchived,
  advanceCheckpoint,
  archivedPositionUpdate,
  lockPosition,
  moveCheckpoint,
  readCheckpoint,
  readPosition,
} from './campaigns/checkpoint';
export { foldArchivedTail } from './campaigns/fold-archived-tail';
export { campaignsWithStatus, setCampaignStatus } from './campaigns/campaign-status';

export type { EntityRow, EntityTable, NewEntityRow } from './entities/entity.table';
export { insertEntities } from './entities/insert-entities';
export { upsertEntities } from './entities/upsert-entities';
export { deleteEntities } from './entities/delete-entities';
export { findEntities, findEntity } from './entities/find-entities';
export {
  LIVE_SET_FETCH_ROWS,
  liveSetBatches,
  loadLiveSet,
  planLiveSet,
  type LivePlan,
  type LiveSet,
} from './entities/load-live-set';
export { loadRegionContents } from './entities/load-region-contents';
export { streamEntities } from './entities/stream-entities';
export { countEntities } from './entities/count-entities';

export type {
  ArchivedEntry,
  ArchivedEvent,
  EventChunkRow,
  EventChunkTable,
  EventRow,
  EventTable,
  NewEventChunkRow,
} from './events/event.table';
export {
  ARCHIVE_CHUNK_CHARS,
  ARCHIVE_CHUNK_EVENTS,
  archiveEvents,
  indexEntityRange,
} from './events/archive-events';
export type { EntryToArchive } from './events/archive-events';
export {
  countEvents,
  lastArchivedSeq,
  lastArchivedSeqAt,
  readEvents,
  type EventRange,
} from './events/read-events';

export type {
  NewSnapshotRow,
  Snapshot,
  SnapshotEntityTable,
  SnapshotRow,
  SnapshotTable,
} from './snapshots/snapshot.table';
export type { CopyChanges, SnapshotPacing } from './snapshots/copy-beside-flushes';
export {
  beginSnapshotCopy,
  completeSnapshotCopy,
  copyEntitiesPaced,
  dropSnapshot,
  entitiesArchivedAfter,
} from './snapshots/copy-beside-flushes';
export { CREATED_SNAPSHOT, createInitialSnapshot, createSnapshot } from './snapshots/create-snapshot';
export { listSnapshots } from './snapshots/list-snapshots';
export { insertSnapshot } from './snapshots/insert-snapshot';
export type { SnapshotLink } from './snapshots/read-snapshot-entities';
export {
  findSnapshotAtOrBefore,
  findSnapshotEntity,
  loadSnapshotState,
  snapshotChain,
  streamSnapshotEntities,
} from './snapshots/read-snapshot-entities';

export type {
  NewSyncLogRow,
  SyncLogEntry,
  SyncLogRow,
  SyncLogTable,
  SyncRecord,
  SyncTrigger,
} from './operations/sync-log.table';
export { pruneSyncLog, readSyncLog, recordSync, syncLogInsert } from './operations/sync-log';
export type {
  DeadLetter,
  DeadLetterInput,
  DeadLetterRow,
  DeadLetterStatus,
  DeadLetterTable,
  NewDeadLetterRow,
} from './operations/dead-letter.table';
export {
  listDeadLetters,
  recordDeadLetter,
  resolveDeadLetter,
  type DeadLetterFilter,
} from './operations/dead-letters';
export {
  retryCampaign,
  skipDeadLetter,
  type RetryOutcome,
  type SkipOutcome,
  type SkipRequest,
} from './operations/resolve-campaign';
