import type { Redis } from 'ioredis';
import type { EventMeta, RecordedEvent } from '@lorekeeper/domain';
import { campaignKeys } from './keys';

/** A stream entry decoded: the recorded event plus its stream id. */
export interface StreamEvent extends RecordedEvent {
  readonly streamId: string;
}

/**
 * A stream entry decoded with the entry's own JSON of the event, when it has one that holds exactly
 * `type`, `entityId`, `version`, `data` and `meta` (layout 2, as lk_append_v2 writes it): the archive
 * reuses that text instead of serialising the event again.
 */
export interface StreamEventWithJson extends StreamEvent {
  readonly json?: string;
}

/**
 * The one field of a layout-2 stream entry: the event as JSON. Layout 1 (before 2026-11-26) spread the
 * event over five fields, `type`, `entityId`, `version`, `data` and `meta`; readers take both, and
 * lk_append still writes layout 1 for session services of the older version during an upgrade
 * (docs/deploy.md, "Upgrading").
 */
export const EVENT_FIELD = 'event';

/** The stream id of the event with this seq (ids are `<seq>-0`). */
export const streamIdOf = (seq: number): string => `${seq}-0`;

/** The seq a stream id `<seq>-<n>` names (`streamIdOf` the other way). */
export const seqOfStreamId = (streamId: string): number => Number(streamId.slice(0, streamId.indexOf('-')));

/** What a stream entry holds of an event besides its seq. */
export interface StreamEntryEvent {
  readonly type: string;
  readonly entityId: string;
  readonly version: number;
  readonly data: unknown;
}

/**
 * The `event` field of a layout-2 entry: type, entityId, version, data and meta, in that order.
 * `metaJson` comes encoded, since a batch's events share one meta.
 */
export function streamEventJson(event: StreamEntryEvent, metaJson: string): string {
  return (
    `{"type":${JSON.stringify(event.type)},"entityId":${JSON.stringify(event.entityId)},` +
    `"version":${JSON.stringify(event.version)},"data":${JSON.stringify(event.data ?? null)},"meta":${metaJson}}`
  );
}

/**
 * Types whose events a reader needs only the type, entity id and version of: their entries' data and
 * meta are parsed only if asked for (decodeEntryFor).
 */
export type TypeOnly = (type: string) => boolean;

/** Decode an entry of either layout. Throws on an entry that is not JSON where JSON belongs. */
export function decodeEntry(streamId: string, fields: readonly string[]): StreamEvent {
  return decode(streamId, fields, false);
}

/**
 * Decode an entry of either layout, keeping a layout-2 entry's JSON when it holds exactly the event
 * (the worker's reads: the archive reuses the text).
 */
export function decodeEntryWithJson(streamId: string, fields: readonly string[]): StreamEventWithJson {
  return decode(streamId, fields, true);
}

/**
 * Decode an entry for a reader that needs only the type of some events: the worker, which writes
 * nothing of a transient event (DESIGN.md, invariant 5). An entry of a type `typeOnly` holds for, laid
 * out as streamEventJson writes it, has its type, entity id and version read off the text; its data
 * and meta are parsed only if something asks for them (see TypeOnlyEvent). Every other entry is
 * decoded whole, as decodeEntryWithJson does.
 */
export function decodeEntryFor(
  streamId: string,
  fields: readonly string[],
  typeOnly: TypeOnly,
): StreamEventWithJson {
  if (fields.length === 2 && fields[0] === EVENT_FIELD) {
    const event = typeOnlyEvent(streamId, fields[1] as string, typeOnly);
    if (event) return event;
  }
  return decode(streamId, fields, true);
}

/**
 * An event whose data and meta are parsed on first use. Both getters throw, as decoding the entry
 * whole would have, when that text turns out not to be JSON; `whole` is the event decoded at once.
 */
export class TypeOnlyEvent implements StreamEventWithJson {
  private body: { readonly data: unknown; readonly meta: EventMeta } | undefined;

  constructor(
    readonly streamId: string,
    readonly seq: number,
    readonly type: string,
    readonly entityId: string,
    readonly version: number,
    /** The entry's `event` field. */
    readonly text: string,
  ) {}

  get data(): unknown {
    return this.parsed().data;
  }

  get meta(): EventMeta {
    return this.parsed().meta;
  }

  /** The event as decodeEntry decodes it: a plain object, or the error the text gives. */
  whole(): StreamEvent {
    return decode(this.streamId, [EVENT_FIELD, this.text], false);
  }

  private parsed(): { readonly data: unknown; readonly meta: EventMeta } {
    return (this.body ??= this.whole());
  }
}

const TYPE_AT = '{"type":"'.length;

/**
 * The entry as a TypeOnlyEvent, when `typeOnly` holds for its type and its text begins
 * `{"type":"<type>","entityId":"<id>","version":<integer>,"data":` and ends with meta's `}}`, ids free
 * of escapes; undefined otherwise (the caller decodes it whole).
 */
function typeOnlyEvent(streamId: string, text: string, typeOnly: TypeOnly): TypeOnlyEvent | undefined {
  if (!text.startsWith('{"type":"') || !text.endsWith('}}')) return undefined;
  const typeEnd = text.indexOf('"', TYPE_AT);
  const type = text.slice(TYPE_AT, typeEnd);
  if (typeEnd < 0 || type.includes('\\') || !typeOnly(type)) return undefined;
  if (!text.startsWith('","entityId":"', typeEnd)) return undefined;
  const idAt = typeEnd + '","entityId":"'.length;
  const idEnd = text.indexOf('"', idAt);
  const entityId = text.slice(idAt, idEnd);
  if (idEnd <= idAt || entityId.includes('\\') || !text.startsWith('","version":', idEnd)) return undefined;
  const versionAt = idEnd + '","version":'.length;
  const versionEnd = text.indexOf(',"data":', versionAt);
  const version = versionEnd > versionAt ? Number(text.slice(versionAt, versionEnd)) : Number.NaN;
  const seq = seqOfStreamId(streamId);
  if (!Number.isInteger(version) || !Number.isInteger(seq)) return undefined;
  return new TypeOnlyEvent(streamId, seq, type, entityId, version, text);
}

function decode(streamId: string, fields: readonly string[], keepJson: boolean): StreamEventWithJson {
  const seq = seqOfStreamId(streamId);
  if (fields.length === 2 && fields[0] === EVENT_FIELD) {
    const json = fields[1] as string;
    const parsed = JSON.parse(json) as Record<string, unknown>;
    const type = typeof parsed['type'] === 'string' ? parsed['type'] : '';
    const entityId = typeof parsed['entityId'] === 'string' ? parsed['entityId'] : '';
    const version = typeof parsed['version'] === 'number' ? parsed['version'] : Number.NaN;
    const data = parsed['data'] ?? null;
    const meta = (parsed['meta'] ?? null) as EventMeta;
    // One object per entry (the worker decodes hundreds of thousands a second in a catch-up).
    return keepJson && holdsExactlyTheEvent(parsed)
      ? { streamId, seq, type, entityId, version, data, meta, json }
      : { streamId, seq, type, entityId, version, data, meta };
  }
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  return {
    streamId,
    seq,
    type: record['type'] ?? '',
    entityId: record['entityId'] ?? '',
    version: Number(record['version']),
    data: JSON.parse(record['data'] ?? 'null') as unknown,
    meta: JSON.parse(record['meta'] ?? 'null') as EventMeta,
  };
}

/** True when the object has the event's five keys and no other (so its text can be reused as is). */
function holdsExactlyTheEvent(parsed: Record<string, unknown>): boolean {
  let keys = 0;
  for (const key in parsed) {
    if (key !== 'type' && key !== 'entityId' && key !== 'version' && key !== 'data' && key !== 'meta') {
      return false;
    }
    keys += 1;
  }
  return keys === 5;
}

/** Events with seq in [fromSeq, toSeq], oldest first. */
export async function readStreamRange(
  redis: Redis,
  campaignId: string,
  fromSeq = 1,
  toSeq?: number,
  count = 10_000,
): Promise<StreamEvent[]> {
  const entries = await redis.xrange(
    campaignKeys(campaignId).events,
    streamIdOf(fromSeq),
    toSeq === undefined ? '+' : streamIdOf(toSeq),
    'COUNT',
    count,
  );
  return entries.map(([id, fields]) => decodeEntry(id, fields));
}

/** The event without the entry's JSON (for records that keep the event as such: a dead letter). */
export function withoutJson(event: StreamEventWithJson): StreamEvent {
  if (event instanceof TypeOnlyEvent) return event.whole();
  if (!('json' in event)) return event;
  const { streamId, seq, type, entityId, version, data, meta } = event;
  return { streamId, seq, type, entityId, version, data, meta };
}

export async function streamLength(redis: Redis, campaignId: string): Promise<number> {
  return redis.xlen(campaignKeys(campaignId).events);
}
