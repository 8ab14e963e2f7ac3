import type { DomainRegistry, EventMeta } from '@lorekeeper/domain';
import type { ArchivedEvent } from '@lorekeeper/pg-store';
import type { StreamEvent } from '@lorekeeper/redis-store';

/** One line of `lorekeeper events` (its JSON shape is what --format json/jsonl prints). */
export interface ListedEvent {
  readonly seq: number;
  readonly streamId: string;
  readonly type: string;
  readonly entityId: string;
  readonly version: number;
  readonly data: unknown;
  readonly meta: EventMeta;
  /** When the batch was committed (meta.at). */
  readonly recordedAt: string;
  readonly source: 'archive' | 'stream';
  /** Only on transient events (combat, dialogue), which live in the stream only. */
  readonly transient?: true;
}

export function fromArchive(event: ArchivedEvent): ListedEvent {
  return {
    seq: event.seq,
    streamId: event.streamId,
    type: event.type,
    entityId: event.entityId,
    version: event.version,
    data: event.data,
    meta: event.meta,
    recordedAt: event.recordedAt.toISOString(),
    source: 'archive',
  };
}

export function fromStream(event: StreamEvent, registry: DomainRegistry): ListedEvent {
  const listed: ListedEvent = {
    seq: event.seq,
    streamId: event.streamId,
    type: event.type,
    entityId: event.entityId,
    version: event.version,
    data: event.data,
    meta: event.meta,
    recordedAt: event.meta?.at ?? '',
    source: 'stream',
  };
  return registry.event(event.type)?.persistence === 'transient' ? { ...listed, transient: true } : listed;
}
