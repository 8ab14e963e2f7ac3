import type { Entity } from '@lorekeeper/domain';
import type { Kysely } from 'kysely';
import type { Database } from '../database';
import { ENTITY_COLUMNS, toEntity } from './entity.table';

/**
 * Every entity of a campaign, in pages of `batchSize`, ordered by id: keyset pagination on the primary
 * key, so page 1,000 costs what page 1 does and memory stays at one page whatever the campaign's size.
 * Each page is its own query; for an export that must match one checkpoint, pass a REPEATABLE READ
 * transaction (see inReadSnapshot) and read the checkpoint in it too.
 */
export async function* streamEntities(
  db: Kysely<Database>,
  campaignId: string,
  batchSize = 1_000,
): AsyncGenerator<Entity[], void, undefined> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
  let after: string | undefined;
  for (;;) {
    let query = db
      .selectFrom('entities')
      .select(ENTITY_COLUMNS)
      .where('campaign_id', '=', campaignId)
      .orderBy('id')
      .limit(batchSize);
    if (after !== undefined) query = query.where('id', '>', after);
    const rows = await query.execute();
    if (rows.length === 0) return;
    yield rows.map(toEntity);
    if (rows.length < batchSize) return;
    after = rows[rows.length - 1]?.id;
  }
}
