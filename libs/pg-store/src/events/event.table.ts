import type { EventMeta, RecordedEvent } from '@lorekeeper/domain';
import type { ColumnType, Insertable, Selectable } from 'kysely';

/**
 * The archive as stored: up to ARCHIVE_CHUNK_EVENTS consecutive persistent events of a campaign per
 * row, as a JSON array in seq order, with what finds a chunk beside it (migration 0007).
 */
export interface EventChunkTable {
  campaign_id: string;
  first_seq: ColumnType<number, number, never>;
  last_seq: ColumnType<number, number, never>;
  event_count: ColumnType<number, number, never>;
  /** The earliest and the latest meta.at of the chunk's events. */
  first_at: ColumnType<Date, Date | string, never>;
  last_at: ColumnType<Date, Date | string, never>;
  /** Each entity an event of the chunk is about, once. */
  entity_ids: ColumnType<string[], string[], never>;
  /** The events, as `ArchivedEntry` objects; a string of JSON on the way in. */
  events: ColumnType<ArchivedEntry[], string, never>;
}

/**
 * The archive's entity index (migration 0012): per range of seqs a flush on the save cadence made
 * durable, every entity an event of its chunks is about. Ranges never overlap and each chunk lies in
 * one, by its first seq.
 */
export interface EventEntityRangeTable {
  campaign_id: string;
  first_seq: ColumnType<number, number, never>;
  last_seq: ColumnType<number, number, never>;
  entity_ids: ColumnType<string[], string[], never>;
}

/** One event inside a chunk's JSON array. */
export interface ArchivedEntry extends RecordedEvent {
  readonly streamId: string;
}

/**
 * The `events` view: the chunks unrolled into one row per event with the columns the archive had as a
 * table, for SQL written by hand. Read-only; the code reads chunks (read-events.ts).
 */
export interface EventTable {
  campaign_id: ColumnType<string, never, never>;
  seq: ColumnType<number, never, never>;
  stream_id: ColumnType<string, never, never>;
  type: ColumnType<string, never, never>;
  entity_id: ColumnType<string, never, never>;
  version: ColumnType<number, never, never>;
  data: ColumnType<unknown, never, never>;
  meta: ColumnType<EventMeta, never, never>;
  recorded_at: ColumnType<Date, never, never>;
}

export type EventRow = Selectable<EventTable>;
export type EventChunkRow = Selectable<EventChunkTable>;
export type NewEventChunkRow = Insertable<EventChunkTable>;

/** An event as the archive holds it: the log entry, the Redis stream id it had, and when it was committed. */
export interface ArchivedEvent extends RecordedEvent {
  readonly streamId: string;
  /** meta.at as a Date. */
  readonly recordedAt: Date;
}

export function toArchivedEvent(entry: ArchivedEntry): ArchivedEvent {
  return {
    seq: entry.seq,
    streamId: entry.streamId,
    type: entry.type,
    entityId: entry.entityId,
    version: entry.version,
    data: entry.data,
    meta: entry.meta,
    recordedAt: new Date(entry.meta.at),
  };
}
