import { LorekeeperError } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import type { Database } from '../database';
import type { Campaign } from './campaign.table';
import { toCampaign } from './campaign.table';

/**
 * Create a campaign at checkpoint 0. Runs in the caller's transaction so the campaign and its world's
 * entities appear together. A taken id throws CAMPAIGN_EXISTS; `on conflict do nothing` (rather than
 * catching the unique violation) keeps the caller's transaction usable and also covers a concurrent
 * creator, whose commit this statement waits for.
 */
export async function insertCampaign(
  trx: Transaction<Database>,
  campaign: { readonly id: string; readonly name: string },
): Promise<Campaign> {
  const row = await trx
    .insertInto('campaigns')
    .values({ id: campaign.id, name: campaign.name })
    .onConflict((oc) => oc.column('id').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    throw new LorekeeperError('CAMPAIGN_EXISTS', `campaign ${campaign.id} already exists`, {
      campaignId: campaign.id,
    });
  }
  return toCampaign(row);
}
