import type { Kysely } from 'kysely';
import type { Database } from '../database';
import type { Campaign } from './campaign.table';
import { toCampaign } from './campaign.table';

export async function findCampaign(db: Kysely<Database>, campaignId: string): Promise<Campaign | undefined> {
  const row = await db.selectFrom('campaigns').selectAll().where('id', '=', campaignId).executeTakeFirst();
  return row && toCampaign(row);
}
