import type { Entity } from '@lorekeeper/domain';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';
import type { EntityColumns } from './entity-columns';
import { entityColumns } from './entity-columns';

/**
 * Insert a new world's entities: one statement per few thousand rows, each sending one array per column
 * and unnesting them in SQL, never a round trip per row. An id that already exists fails the statement
 * (and so the caller's transaction) with Postgres's unique violation. Returns the number inserted.
 */
export async function insertEntities(
  trx: Transaction<Database>,
  campaignId: string,
  entities: readonly Entity[],
  registry = referenceRegistry,
): Promise<number> {
  let inserted = 0;
  for (const chunk of chunksOf(entities)) {
    const result = await trx
      .insertInto('entities')
      .columns(['campaign_id', 'id', 'kind', 'region_id', 'owner_id', 'version', 'state'])
      .expression(unnestEntities(campaignId, entityColumns(chunk, registry)))
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return inserted;
}

/**
 * `select <campaign>, columns... from rows from (unnest(array), ...)`: the rows of a bulk insert or
 * upsert, the columns zipped in order. The states go as one JSON array rather than a text[]: node-pg
 * would escape every quote of every state into an array literal, and Postgres unescape it before
 * parsing each state as JSON; this way each state is parsed once, as part of the array.
 */
export function unnestEntities(campaignId: string, c: EntityColumns) {
  const states = `[${c.states.join(',')}]`;
  return sql`select ${campaignId}::text, u.id, u.kind, u.region_id, u.owner_id, u.version, u.state
    from rows from (unnest(${c.ids}::text[]), unnest(${c.kinds}::text[]), unnest(${c.regionIds}::text[]),
                    unnest(${c.ownerIds}::text[]), unnest(${c.versions}::int4[]),
                    jsonb_array_elements(${states}::jsonb))
      as u(id, kind, region_id, owner_id, version, state)`;
}
