import type { Kysely } from 'kysely';
import type { Database } from '../database';

/** How many entities a campaign has in Postgres (for progress bars and export manifests). */
export async function countEntities(db: Kysely<Database>, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('entities')
    .select((eb) => eb.fn.countAll<string>().as('count'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}
