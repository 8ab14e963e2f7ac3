import type { Kysely } from 'kysely';
import type { Database } from '../database';
import type { CampaignStatus } from './campaign.table';

/**
 * Set a campaign's status: 'quarantined' stops every worker from checkpointing it until an operator
 * resolves its dead letter; 'active' resumes it. Returns false for an unknown campaign.
 */
export async function setCampaignStatus(
  db: Kysely<Database>,
  campaignId: string,
  status: CampaignStatus,
): Promise<boolean> {
  const result = await db
    .updateTable('campaigns')
    .set({ status, updated_at: new Date() })
    .where('id', '=', campaignId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Which of `campaignIds` have `status` now (one query; the worker re-checks its quarantined set). */
export async function campaignsWithStatus(
  db: Kysely<Database>,
  campaignIds: readonly string[],
  status: CampaignStatus,
): Promise<string[]> {
  if (campaignIds.length === 0) return [];
  const rows = await db
    .selectFrom('campaigns')
    .select('id')
    .where('id', 'in', campaignIds)
    .where('status', '=', status)
    .execute();
  return rows.map((row) => row.id);
}
