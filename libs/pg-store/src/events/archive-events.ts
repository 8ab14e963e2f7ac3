import type { RecordedEvent } from '@lorekeeper/domain';
import { LorekeeperError } from '@lorekeeper/domain';
import type { OperationNodeSource, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../database';
import type { ArchivedEntry } from './event.table';

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
 *
 * `alongside`: statements (kysely builders, not run) to run in the same round trip as the last chunk
 * insert, or alone when there are no events: a flush moves the archive's position and logs itself
 * there (archivedPositionUpdate, syncLogInsert). They run even when the archive refuses the events;
 * the call then throws, and the transaction, which the caller must roll back, undoes them.
 */
export async function archiveEvents(
  trx: Transaction<Database>,
  campaignId: string,
  events: readonly EntryToArchive[],
  alongside: readonly OperationNodeSource[] = [],
): Promise<number> {
  if (events.length === 0) {
    if (alongside.length > 0) await sql`with ${named(alongside)} select 1`.execute(trx);
    return 0;
  }
  const ordered = isOrdered(events) ? events : [...events].sort((a, b) => a.seq - b.seq);
  if (!isOrdered(ordered)) {
    throw new LorekeeperError(
      'INTERNAL',
      `campaign ${campaignId}: a seq appears twice in the events to archive`,
    );
  }
  // One statement for many chunks: a flush of 11,000 events made eleven round trips, each waiting
  // behind the worker's folding. The same statement reads where the archive ends and inserts only past
  // it: a major event's flush made seven round trips, and this check alone was one of them.
  let rows: Chunk[] = [];
  let chars = 0;
  const insert = async (last: boolean) => {
    const first = (rows[0] as Chunk).firstSeq;
    const result = await insertChunks(trx, campaignId, rows, last ? alongside : []);
    if (result.inserted !== rows.length) {
      throw new LorekeeperError(
        'INTERNAL',
        `campaign ${campaignId}: seq ${first} is at or below the archive's last seq ${result.last}; events are archived once, in order`,
      );
    }
    rows = [];
    chars = 0;
  };
  for (const chunk of chunksOfEvents(ordered)) {
    if (rows.length > 0 && chars + chunk.json.length > ARCHIVE_STATEMENT_CHARS) await insert(false);
    rows.push(chunk);
    chars += chunk.json.length;
  }
  await insert(true);
  return ordered.length;
}

/**
 * Insert the chunks unless the archive already reaches their first seq; with `alongside` as further
 * statements of the same one. The entity ids go as JSON, which node-pg sends as it is, where a text[]
 * parameter is escaped element by element. Answers where the archive ended and how many went in.
 */
async function insertChunks(
  trx: Transaction<Database>,
  campaignId: string,
  rows: readonly Chunk[],
  alongside: readonly OperationNodeSource[],
): Promise<{ last: number; inserted: number }> {
  const values = rows.map(
    (chunk) =>
      sql`(${chunk.firstSeq}::bigint, ${chunk.lastSeq}::bigint, ${chunk.count}::integer,
           ${chunk.firstAt}::timestamptz, ${chunk.lastAt}::timestamptz,
           array(select json_array_elements_text(${JSON.stringify(chunk.entityIds)}::json)), ${chunk.json}::json)`,
  );
  const more = alongside.length > 0 ? sql`, ${named(alongside)}` : sql``;
  const { rows: answer } = await sql<{ last: string; inserted: number }>`
    with archived as (select coalesce(max(last_seq), 0) as seq from event_chunks where campaign_id = ${campaignId}),
    inserted as (
      insert into event_chunks
        (campaign_id, first_seq, last_seq, event_count, first_at, last_at, entity_ids, events)
      select ${campaignId}, c.*
        from (values ${sql.join(values)}) as c (first_seq, last_seq, event_count, first_at, last_at, entity_ids, events)
       where (select seq from archived) < ${(rows[0] as Chunk).firstSeq}
      returning 1
    )${more}
    select (select seq from archived) as last, (select count(*) from inserted)::integer as inserted`.execute(
    trx,
  );
  const row = answer[0] as { last: string; inserted: number };
  return { last: Number(row.last), inserted: row.inserted };
}

/**
 * Index the archive's entities up to `toSeq`: one range from where the last one ended, holding every
 * entity the chunks in it are about, once (migration 0012). A flush on the save cadence runs it after
 * archiving, in its transaction, so the range also gathers the chunks that major events' flushes
 * archived since. Nothing is written while no chunk lies past the last range.
 */
export async function indexEntityRange(
  trx: Transaction<Database>,
  campaignId: string,
  toSeq: number,
): Promise<void> {
  // A range ends at `toSeq` or, should a chunk run past it, with that chunk: each chunk lies whole in one.
  await sql`
    insert into event_entity_ranges (campaign_id, first_seq, last_seq, entity_ids)
    select ${campaignId}, r.next, greatest(${toSeq}::bigint, ids.last_seq), ids.entity_ids
      from (select coalesce(max(last_seq), 0) + 1 as next
              from event_entity_ranges where campaign_id = ${campaignId}) r,
           lateral (select array_agg(distinct e.id) as entity_ids, max(c.last_seq) as last_seq
                      from event_chunks c, unnest(c.entity_ids) as e(id)
                     where c.campaign_id = ${campaignId}
                       and c.first_seq >= r.next and c.first_seq <= ${toSeq}) ids
     where r.next <= ${toSeq} and ids.entity_ids is not null`.execute(trx);
}

/** `alongside_0 as (...), ...`: statements a `with` runs for their effect, in one round trip. */
function named(statements: readonly OperationNodeSource[]) {
  return sql.join(statements.map((statement, i) => sql`${sql.raw(`alongside_${i}`)} as (${statement})`));
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
