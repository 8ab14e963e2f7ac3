import type { Entity } from '@lorekeeper/domain';
import { referenceRegistry } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';
import { entityColumns } from './entity-columns';
import { unnestEntities } from './insert-entities';

/**
 * Write each entity's current state, inserting or replacing it (the worker's flush of its dirty set).
 * Chunked UNNEST statements like insertEntities. When an id appears twice the last one wins, as it would
 * in a fold; Postgres itself refuses to update one row twice in a statement. Returns the rows written.
 */
export async function upsertEntities(
  trx: Transaction<Database>,
  campaignId: string,
  entities: readonly Entity[],
  registry = referenceRegistry,
): Promise<number> {
  const latest = [...new Map(entities.map((entity) => [entity.id, entity])).values()];
  let written = 0;
  for (const chunk of chunksOf(latest)) {
    const result = await trx
      .insertInto('entities')
      .columns(['campaign_id', 'id', 'kind', 'region_id', 'owner_id', 'version', 'state'])
      .expression(unnestEntities(campaignId, entityColumns(chunk, registry)))
      .onConflict((oc) =>
        oc.columns(['campaign_id', 'id']).doUpdateSet((eb) => ({
          kind: eb.ref('excluded.kind'),
          region_id: eb.ref('excluded.region_id'),
          owner_id: eb.ref('excluded.owner_id'),
          version: eb.ref('excluded.version'),
          state: eb.ref('excluded.state'),
          updated_at: sql`now()`,
        })),
      )
      .executeTakeFirst();
    written += Number(result.numInsertedOrUpdatedRows ?? 0n);
  }
  return written;
}
