import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Entity } from '@lorekeeper/domain';
import { generateWorld } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { createInitialSnapshot, insertCampaign, insertEntities } from '@lorekeeper/pg-store';
import type { CapacityOptions } from './options';

export interface LoadedWorld {
  readonly campaignId: string;
  /** Every entity as inserted; the simulated play folds forward from these. */
  readonly entities: readonly Entity[];
  readonly insertSeconds: number;
}

/**
 * Generate the campaign's world and write it straight into Postgres with pg-store's chunked UNNEST
 * inserts, in one transaction, with the snapshot of the created world that `campaign.<id>.create`
 * records (the worker spaces its replay snapshots from it). Not through `campaign.<id>.create`: a
 * 1,000,000-entity document is far past NATS's max_payload, and the create request is not what this
 * benchmark measures.
 */
export async function loadWorld(db: Kysely<Database>, options: CapacityOptions): Promise<LoadedWorld> {
  const campaignId = `capacity-${Date.now().toString(36)}`;
  const world = generateWorld({ campaignId, ...options.world, seed: 11 });
  const started = performance.now();
  await db.transaction().execute(async (trx) => {
    await insertCampaign(trx, { id: campaignId, name: world.name });
    await insertEntities(trx, campaignId, world.entities);
    await createInitialSnapshot(trx, campaignId);
  });
  // Fresh statistics, as autovacuum would give a table this size soon after: the live-set queries
  // choose their plans from them.
  await sql`analyze entities`.execute(db);
  return { campaignId, entities: world.entities, insertSeconds: (performance.now() - started) / 1_000 };
}
