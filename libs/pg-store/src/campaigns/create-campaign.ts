import type { Entity } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import type { Database } from '../database';
import { insertEntities } from '../entities/insert-entities';
import { createInitialSnapshot } from '../snapshots/create-snapshot';
import type { Campaign } from './campaign.table';
import { insertCampaign } from './insert-campaign';

/**
 * A new campaign from a world document at seq 0, as `campaign.<id>.create` makes it: the campaign at
 * checkpoint 0, the world's entities, and the world as its 'created' snapshot (the base every replay
 * folds from). Runs in the caller's transaction, so all of it appears together or none; a taken id
 * throws CAMPAIGN_EXISTS.
 */
export async function createCampaignFromWorld(
  trx: Transaction<Database>,
  campaign: { readonly id: string; readonly name: string },
  entities: readonly Entity[],
): Promise<Campaign> {
  const created = await insertCampaign(trx, campaign);
  await insertEntities(trx, campaign.id, entities);
  await createInitialSnapshot(trx, campaign.id);
  return created;
}
