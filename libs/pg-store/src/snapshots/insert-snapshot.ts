import type { Entity } from '@lorekeeper/domain';
import { LorekeeperError } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import { sql } from 'kysely';
import { chunksOf } from '../chunks';
import type { Database } from '../database';
import type { Snapshot } from './snapshot.table';
import { toSnapshot } from './snapshot.table';

/**
 * Write a snapshot from the given entities rather than from the entities table: an import restores the
 * world a campaign was created with (seq 0) beside a current state that has moved on. Runs in the
 * caller's transaction. Throws VALIDATION_FAILED when the campaign already has a snapshot of that name.
 */
export async function insertSnapshot(
  trx: Transaction<Database>,
  snapshot: { readonly campaignId: string; readonly name: string; readonly seq: number },
  entities: readonly Entity[],
): Promise<Snapshot> {
  const { campaignId, name, seq } = snapshot;
  const header = await trx
    .insertInto('snapshots')
    .values({ campaign_id: campaignId, name, seq, entity_count: entities.length })
    .onConflict((oc) => oc.columns(['campaign_id', 'name']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (!header) {
    throw new LorekeeperError(
      'VALIDATION_FAILED',
      `campaign ${campaignId} already has a snapshot named "${name}"`,
      { campaignId, name },
    );
  }
  for (const chunk of chunksOf(entities)) {
    await trx
      .insertInto('snapshot_entities')
      .columns(['snapshot_id', 'id', 'kind', 'version', 'state'])
      .expression(
        sql`select ${header.id}::bigint, u.id, u.kind, u.version, u.state::jsonb
          from unnest(${chunk.map((e) => e.id)}::text[], ${chunk.map((e) => e.kind)}::text[],
                      ${chunk.map((e) => e.version)}::int4[], ${chunk.map((e) => JSON.stringify(e.state))}::text[])
            as u(id, kind, version, state)`,
      )
      .execute();
  }
  return toSnapshot(header);
}
