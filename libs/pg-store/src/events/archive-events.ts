import type { RecordedEvent } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';

/**
 * Append persistent events to the archive, in the flush's transaction (with the entities and the
 * checkpoint). Chunked UNNEST inserts. A seq already archived fails the statement: the checkpoint fence
 * should have filtered it, so a duplicate means a bug, never something to skip quietly. The caller leaves
 * transient events out (DESIGN.md, invariant 5). Returns the number archived.
 */
export async function archiveEvents(
  trx: Transaction<Database>,
  campaignId: string,
  events: readonly (RecordedEvent & { readonly streamId: string })[],
): Promise<number> {
  let archived = 0;
  for (const chunk of chunksOf(events)) {
    const result = await trx
      .insertInto('events')
      .columns([
        'campaign_id',
        'seq',
        'stream_id',
        'type',
        'entity_id',
        'version',
        'data',
        'meta',
        'recorded_at',
      ])
      .expression(
        sql`select ${campaignId}::text, u.seq, u.stream_id, u.type, u.entity_id, u.version, u.data::jsonb,
                   u.meta::jsonb, u.recorded_at
            from unnest(${chunk.map((e) => e.seq)}::int8[], ${chunk.map((e) => e.streamId)}::text[],
                        ${chunk.map((e) => e.type)}::text[], ${chunk.map((e) => e.entityId)}::text[],
                        ${chunk.map((e) => e.version)}::int4[], ${chunk.map((e) => JSON.stringify(e.data))}::text[],
                        ${chunk.map((e) => JSON.stringify(e.meta))}::text[], ${chunk.map((e) => e.meta.at)}::timestamptz[])
              as u(seq, stream_id, type, entity_id, version, data, meta, recorded_at)`,
      )
      .executeTakeFirst();
    archived += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return archived;
}
