import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';

/** Remove destroyed entities (item.destroyed). Ids that are already gone are ignored. Returns rows deleted. */
export async function deleteEntities(
  trx: Transaction<Database>,
  campaignId: string,
  ids: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (const chunk of chunksOf(ids)) {
    const result = await trx
      .deleteFrom('entities')
      .where('campaign_id', '=', campaignId)
      .where('id', '=', sql<string>`any(${chunk}::text[])`)
      .executeTakeFirst();
    deleted += Number(result.numDeletedRows);
  }
  return deleted;
}
