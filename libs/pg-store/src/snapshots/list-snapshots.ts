import type { Kysely } from 'kysely';
import type { Database } from '../database';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/** A campaign's snapshots, oldest first. */
export async function listSnapshots(db: Kysely<Database>, campaignId: string): Promise<Snapshot[]> {
  const rows = await db
    .selectFrom('snapshots')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .where('complete', '=', true)
    .orderBy('id')
    .execute();
  return rows.map(toSnapshot);
}
