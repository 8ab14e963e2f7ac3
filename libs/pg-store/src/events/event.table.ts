import type { EventMeta, RecordedEvent } from '@lorekeeper/domain';
import type { ColumnType, Insertable, Selectable } from 'kysely';

export interface EventTable {
  campaign_id: string;
  seq: number;
  stream_id: string;
  type: string;
  entity_id: string;
  version: number;
  data: ColumnType<unknown, string, string>;
  meta: ColumnType<EventMeta, string, string>;
  recorded_at: ColumnType<Date, Date | string, Date | string>;
}

export type EventRow = Selectable<EventTable>;
export type NewEventRow = Insertable<EventTable>;

/** An event as the archive holds it: the log entry, the Redis stream id it had, and when it was committed. */
export interface ArchivedEvent extends RecordedEvent {
  readonly streamId: string;
  /** meta.at as a Date. */
  readonly recordedAt: Date;
}

export function toArchivedEvent(row: EventRow): ArchivedEvent {
  return {
    seq: row.seq,
    streamId: row.stream_id,
    type: row.type,
    entityId: row.entity_id,
    version: row.version,
    data: row.data,
    meta: row.meta,
    recordedAt: row.recorded_at,
  };
}
