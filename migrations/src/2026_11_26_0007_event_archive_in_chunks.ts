import type { Kysely } from 'kysely';
import { sql } from 'kysely';

/**
 * The event archive becomes chunks: one row holds up to 1,000 consecutive persistent events of a
 * campaign as a JSON array, with the seq range, the time range and the entities it touches beside it
 * for finding chunks. A row per event cost a heap tuple, two index entries and two JSONB parses per
 * event, and was most of a flush: on the development machine 33,000 events took 500-690 ms as rows and
 * 100-115 ms as lz4-compressed chunks, in a quarter of the disk (docs/architecture.md, "The archive").
 *
 * `events` stays, as a read-only view with the old columns, for anyone's SQL against the archive. The
 * existing rows move into chunks of 1,000 by seq; `down` moves them back into rows.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('event_chunks')
    .addColumn('campaign_id', 'text', (col) => col.notNull())
    .addColumn('first_seq', 'bigint', (col) => col.notNull().check(sql`first_seq >= 1`))
    .addColumn('last_seq', 'bigint', (col) => col.notNull())
    .addColumn('event_count', 'integer', (col) => col.notNull().check(sql`event_count >= 1`))
    // The earliest and latest meta.at in the chunk (the session service's clock; not always in seq order).
    .addColumn('first_at', 'timestamptz', (col) => col.notNull())
    .addColumn('last_at', 'timestamptz', (col) => col.notNull())
    // Every entity an event of the chunk is about, once each: one entity's history finds its chunks.
    .addColumn('entity_ids', sql`text[]`, (col) => col.notNull())
    // [{seq, streamId, type, entityId, version, data, meta}, ...] in seq order.
    .addColumn('events', 'json', (col) => col.notNull())
    .addPrimaryKeyConstraint('event_chunks_pkey', ['campaign_id', 'first_seq'])
    .addCheckConstraint(
      'event_chunks_range',
      sql`last_seq >= first_seq and event_count <= last_seq - first_seq + 1`,
    )
    .execute();
  // Chunks never overlap, so ordering by last_seq is ordering by first_seq: "the chunks from seq N on".
  await db.schema
    .createIndex('event_chunks_last_seq_idx')
    .on('event_chunks')
    .columns(['campaign_id', 'last_seq'])
    .unique()
    .execute();
  await sql`create index event_chunks_entity_idx on event_chunks using gin (entity_ids)`.execute(db);
  // lz4 compresses the JSON about as fast as it is written (pglz took twice as long); a server built
  // without lz4 keeps its default.
  await sql`do $$ begin
              alter table event_chunks alter column events set compression lz4;
            exception when feature_not_supported then null;
            end $$`.execute(db);

  await sql`insert into event_chunks
              (campaign_id, first_seq, last_seq, event_count, first_at, last_at, entity_ids, events)
            select campaign_id, min(seq), max(seq), count(*), min(recorded_at), max(recorded_at),
                   array_agg(distinct entity_id),
                   json_agg(json_build_object('seq', seq, 'streamId', stream_id, 'type', type,
                                              'entityId', entity_id, 'version', version,
                                              'data', data, 'meta', meta) order by seq)
            from events
            group by campaign_id, (seq - 1) / 1000`.execute(db);
  await db.schema.dropTable('events').execute();
  await sql`create view events as ${eventsView}`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`create table event_rows as ${eventsView}`.execute(db);
  await db.schema.dropView('events').execute();
  await db.schema.dropTable('event_chunks').execute();
  await sql`alter table event_rows rename to events`.execute(db);
  for (const column of [
    'campaign_id',
    'seq',
    'stream_id',
    'type',
    'entity_id',
    'version',
    'data',
    'meta',
    'recorded_at',
  ]) {
    await sql`alter table events alter column ${sql.ref(column)} set not null`.execute(db);
  }
  await sql`alter table events add constraint events_pkey primary key (campaign_id, seq),
                               add constraint events_seq_check check (seq >= 1),
                               add constraint events_version_check check (version >= 1)`.execute(db);
  await db.schema
    .createIndex('events_entity_idx')
    .on('events')
    .columns(['campaign_id', 'entity_id', 'seq'])
    .execute();
}

/** The archive as rows, with the columns of the table it replaced. */
const eventsView = sql`
  select c.campaign_id,
         (e ->> 'seq')::bigint as seq,
         e ->> 'streamId' as stream_id,
         e ->> 'type' as type,
         e ->> 'entityId' as entity_id,
         (e ->> 'version')::integer as version,
         (e -> 'data')::jsonb as data,
         (e -> 'meta')::jsonb as meta,
         (e -> 'meta' ->> 'at')::timestamptz as recorded_at
  from event_chunks c
  cross join lateral json_array_elements(c.events) as e`;
