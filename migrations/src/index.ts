import type { Migration } from 'kysely';
import * as campaignsAndEntities from './2026_11_25_0001_campaigns_and_entities';
import * as eventArchive from './2026_11_25_0002_event_archive';
import * as snapshots from './2026_11_25_0003_snapshots';
import * as deadLettersAndSyncLog from './2026_11_25_0004_dead_letters_and_sync_log';
import * as deadLetterReason from './2026_11_25_0005_dead_letter_reason';
import * as eventArchiveWithoutForeignKey from './2026_11_26_0006_event_archive_without_foreign_key';
import * as eventArchiveInChunks from './2026_11_26_0007_event_archive_in_chunks';
import * as snapshotComplete from './2026_11_27_0008_snapshot_complete';
import * as entitiesFillfactor from './2026_11_27_0009_entities_fillfactor';
import * as archivedPosition from './2026_11_27_0010_archived_position';
import * as archiveIndexWithoutPendingList from './2026_11_27_0011_archive_index_without_pending_list';
import * as entityRanges from './2026_11_28_0012_entity_ranges';
import * as archiveLz4 from './2026_12_07_0013_archive_lz4';
import * as deltaSnapshots from './2026_12_07_0014_delta_snapshots';

/**
 * Every migration, by name. A static record rather than a folder scan, so the built CLI and services
 * need no filesystem access or path juggling at runtime. Kysely runs them in name order: add a new file
 * with a later timestamp and list it here; never rename or edit one that has shipped.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_25_0001_campaigns_and_entities': campaignsAndEntities,
  '2026_11_25_0002_event_archive': eventArchive,
  '2026_11_25_0003_snapshots': snapshots,
  '2026_11_25_0004_dead_letters_and_sync_log': deadLettersAndSyncLog,
  '2026_11_25_0005_dead_letter_reason': deadLetterReason,
  '2026_11_26_0006_event_archive_without_foreign_key': eventArchiveWithoutForeignKey,
  '2026_11_26_0007_event_archive_in_chunks': eventArchiveInChunks,
  '2026_11_27_0008_snapshot_complete': snapshotComplete,
  '2026_11_27_0009_entities_fillfactor': entitiesFillfactor,
  '2026_11_27_0010_archived_position': archivedPosition,
  '2026_11_27_0011_archive_index_without_pending_list': archiveIndexWithoutPendingList,
  '2026_11_28_0012_entity_ranges': entityRanges,
  '2026_12_07_0013_archive_lz4': archiveLz4,
  '2026_12_07_0014_delta_snapshots': deltaSnapshots,
};
