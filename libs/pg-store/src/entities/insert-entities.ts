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

/** `select <campaign>, columns... from unnest(arrays...)`: the rows of a bulk insert or upsert. */
export function unnestEntities(campaignId: string, c: EntityColumns) {
  return sql`select ${campaignId}::text, u.id, u.kind, u.region_id, u.owner_id, u.version, u.state::jsonb
    from unnest(${c.ids}::text[], ${c.kinds}::text[], ${c.regionIds}::text[], ${c.ownerIds}::text[],
                ${c.versions}::int4[], ${c.states}::text[])
      as u(id, kind, region_id, owner_id, version, state)`;
}
