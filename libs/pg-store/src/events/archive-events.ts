import type { RecordedEvent } from '@lorekeeper/domain';
import { LorekeeperError } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { ArchivedEntry } from './event.table';
import { lastArchivedSeq } from './read-events';

/** Events per archive chunk: one row, one JSON array (migration 0007). */
export const ARCHIVE_CHUNK_EVENTS = 1_000;
/** A chunk also ends once its JSON passes this many characters, so a row stays a few megabytes at most. */
export const ARCHIVE_CHUNK_CHARS = 1 << 20;

/**
 * An event to archive. `json`, when given, is the event's JSON holding exactly its type, entityId,
 * version, data and meta (a layout-2 stream entry's text, which the worker has already): the chunk
 * takes it as it is, with the seq and stream id put in front, instead of serialising the event again.
 */
export interface EntryToArchive extends ArchivedEntry {
  readonly json?: string | undefined;
}

/**
 * Append persistent events to the archive, in the flush's transaction (with the entities and the
 * checkpoint), as chunks of consecutive events. The archive only grows at its end: events at or below
 * a seq already archived fail the call, since the checkpoint fence should have filtered them, so they
 * mean a bug, never something to skip quietly. The caller holds the campaign's row (the flush moves the
 * checkpoint first), so no other writer archives for the campaign meanwhile. The caller leaves transient
 * events out (DESIGN.md, invariant 5). Returns the number archived.
 */
export async function archiveEvents(
  trx: Transaction<Database>,
  campaignId: string,
  events: readonly EntryToArchive[],
): Promise<number> {
  if (events.length === 0) return 0;
  const ordered = isOrdered(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
  if (!isOrdered(ordered)) {
    throw new LorekeeperError(
      'INTERNAL',
      `campaign ${campaignId}: a seq appears twice in the events to archive`,
    );
  }
  const last = await lastArchivedSeq(trx, campaignId);
  const first = (ordered[0] as RecordedEvent).seq;
  if (first <= last) {
    throw new LorekeeperError(
      'INTERNAL',
      `campaign ${campaignId}: seq ${first} is at or below the archive's last seq ${last}; events are archived once, in order`,
    );
  }
  // One statement for many chunks: a flush of 11,000 events made eleven round trips, each waiting
  // behind the worker's folding. The entity ids go as JSON, which node-pg sends as it is, where a
  // text[] parameter is escaped element by element.
  let rows: Chunk[] = [];
  let chars = 0;
  const insert = async () => {
    const values = rows.map(
      (chunk) =>
        sql`(${campaignId}, ${chunk.firstSeq}, ${chunk.lastSeq}, ${chunk.count}, ${chunk.firstAt}::timestamptz,
             ${chunk.lastAt}::timestamptz, array(select json_array_elements_text(${JSON.stringify(chunk.entityIds)}::json)),
             ${chunk.json}::json)`,
    );
    await sql`insert into event_chunks
                (campaign_id, first_seq, last_seq, event_count, first_at, last_at, entity_ids, events)
              values ${sql.join(values)}`.execute(trx);
    rows = [];
    chars = 0;
  };
  for (const chunk of chunksOfEvents(ordered)) {
    if (rows.length > 0 && chars + chunk.json.length > ARCHIVE_STATEMENT_CHARS) await insert();
    rows.push(chunk);
    chars += chunk.json.length;
  }
  if (rows.length > 0) await insert();
  return ordered.length;
}

/** The chunks of one INSERT together stay under this many characters of JSON (a message of a few MB). */
const ARCHIVE_STATEMENT_CHARS = 4 * ARCHIVE_CHUNK_CHARS;

interface Chunk {
  readonly firstSeq: number;
  readonly lastSeq: number;
  readonly count: number;
  readonly firstAt: string;
  readonly lastAt: string;
  readonly entityIds: string[];
  readonly json: string;
}

/** Consecutive events cut into chunks of at most ARCHIVE_CHUNK_EVENTS events or about ARCHIVE_CHUNK_CHARS. */
function* chunksOfEvents(events: readonly EntryToArchive[]): Generator<Chunk> {
  let parts: string[] = [];
  let chars = 0;
  let entityIds = new Set<string>();
  let firstAt = '';
  let lastAt = '';
  let start = 0;
  const cut = (end: number): Chunk => ({
    firstSeq: (events[start] as RecordedEvent).seq,
    lastSeq: (events[end - 1] as RecordedEvent).seq,
    count: end - start,
    firstAt,
    lastAt,
    entityIds: [...entityIds],
    json: `[${parts.join(',')}]`,
  });
  for (let i = 0; i < events.length; i += 1) {
    const { seq, streamId, type, entityId, version, data, meta, json } = events[i] as EntryToArchive;
    const part =
      json === undefined
        ? JSON.stringify({ seq, streamId, type, entityId, version, data, meta })
        : `{"seq":${seq},"streamId":${JSON.stringify(streamId)},${json.slice(1)}`;
    parts.push(part);
    chars += part.length;
    entityIds.add(entityId);
    const at = utcInstant(meta.at);
    if (firstAt === '' || at < firstAt) firstAt = at;
    if (lastAt === '' || at > lastAt) lastAt = at;
    if (parts.length >= ARCHIVE_CHUNK_EVENTS || chars >= ARCHIVE_CHUNK_CHARS || i === events.length - 1) {
      yield cut(i + 1);
      parts = [];
      chars = 0;
      entityIds = new Set();
      firstAt = '';
      lastAt = '';
      start = i + 1;
    }
  }
}

/**
 * meta.at as `YYYY-MM-DDTHH:mm:ss.sssZ`, which compares as text. The session service writes it so
 * already; anything else (an imported world's events) is normalised.
 */
function utcInstant(at: string): string {
  return at.length === 24 && at.endsWith('Z') && at[10] === 'T' ? at : new Date(at).toISOString();
}

function isOrdered(events: readonly RecordedEvent[]): boolean {
  for (let i = 1; i < events.length; i += 1) {
    if ((events[i] as RecordedEvent).seq <= (events[i - 1] as RecordedEvent).seq) return false;
  }
  return true;
}
