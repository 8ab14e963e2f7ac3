import type { Kysely } from 'kysely';
import type { Database } from '@lorekeeper/pg-store';
import { insertCampaign, insertEntities } from '@lorekeeper/pg-store';
import { generateWorld, uniqueCampaignId } from '@lorekeeper/testing';

/** Entities in the campaign insertLargeCampaign writes. */
export const LARGE_CAMPAIGN_ENTITIES = 60_000;

/**
 * A campaign of 60,000 entities written straight into Postgres, without the snapshot of the created
 * world that create records: it has no snapshot yet, so a replay snapshot is due after the first
 * SNAPSHOT_EVERY_EVENTS events, and its paced copy takes a dozen chunks with rests between them (a
 * couple of seconds). Returns its id; player:p0 is one of its players.
 */
export async function insertLargeCampaign(db: Kysely<Database>, label: string): Promise<string> {
  const campaignId = uniqueCampaignId(label);
  const world = generateWorld({
    campaignId,
    regions: 200,
    players: 2_000,
    npcs: 20_000,
    items: 35_000,
    quests: 2_799,
    seed: 9,
  });
  if (world.entities.length !== LARGE_CAMPAIGN_ENTITIES) {
    throw new Error(`the large campaign has ${world.entities.length} entities`);
  }
  await db.transaction().execute(async (trx) => {
    await insertCampaign(trx, { id: campaignId, name: world.name });
    await insertEntities(trx, campaignId, world.entities);
  });
  return campaignId;
}
