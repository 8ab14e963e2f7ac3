import type { WorldDocument } from '@lorekeeper/domain';
import { isLorekeeperError } from '@lorekeeper/domain';
import type { ArchivedEvent, Checkpoint, Database } from '@lorekeeper/pg-store';
import {
  BULK_CHUNK_ROWS,
  CREATED_SNAPSHOT,
  advanceCheckpoint,
  archiveEvents,
  indexEntityRange,
  createCampaignFromWorld,
  insertCampaign,
  insertEntities,
  insertSnapshot,
} from '@lorekeeper/pg-store';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import { CommandFailedError } from '../errors';

/** A verified export, ready to be written under `campaignId`. */
export interface VerifiedExport {
  readonly campaignId: string;
  readonly created: WorldDocument;
  readonly world: WorldDocument;
  readonly checkpoint: Checkpoint;
  /** Read the events again, a page's worth at a time (they were folded once already to check them). */
  readonly events: () => AsyncIterable<ArchivedEvent>;
}

/**
 * Write a verified export as a new campaign in ONE transaction: the campaign, the created world as its
 * 'created' snapshot (seq 0), the world at the checkpoint as its entities, the archived events, and the
 * checkpoint. Anything that fails rolls all of it back. Refuses a taken id.
 */
export async function writeExport(
  db: Kysely<Database>,
  source: VerifiedExport,
  onArchived: (archived: number) => void = () => {},
): Promise<void> {
  const { campaignId, created, world } = source;
  await inCreatingTransaction(db, campaignId, async (trx) => {
    const campaign = await insertCampaign(trx, { id: campaignId, name: world.name });
    await insertSnapshot(trx, { campaignId, name: CREATED_SNAPSHOT, seq: 0 }, created.entities);
    await insertEntities(trx, campaignId, world.entities);
    let archived = 0;
    for await (const page of pages(source.events(), BULK_CHUNK_ROWS)) {
      archived += await archiveEvents(trx, campaignId, page);
      const last = page[page.length - 1];
      if (last) await indexEntityRange(trx, campaignId, last.seq);
      onArchived(archived);
    }
    // The campaign is new and this transaction holds its row, so the move from its first checkpoint
    // cannot lose a race; false here would be a bug.
    if (!(await advanceCheckpoint(trx, campaignId, campaign.checkpoint, source.checkpoint)))
      throw new Error(`the checkpoint of the new campaign ${campaignId} moved during its import`);
  });
}

/**
 * Write a world document (seq 0) as a new campaign, as `campaign.<id>.create` does: the campaign, its
 * entities and its 'created' snapshot, in one transaction. Refuses a taken id.
 */
export async function writeWorldDocument(
  db: Kysely<Database>,
  campaignId: string,
  world: WorldDocument,
): Promise<void> {
  await inCreatingTransaction(db, campaignId, async (trx) => {
    await createCampaignFromWorld(trx, { id: campaignId, name: world.name }, world.entities);
  });
}

async function inCreatingTransaction(
  db: Kysely<Database>,
  campaignId: string,
  work: (trx: Transaction<Database>) => Promise<void>,
): Promise<void> {
  try {
    await db.transaction().execute(work);
  } catch (error) {
    if (isLorekeeperError(error) && error.code === 'CAMPAIGN_EXISTS') {
      throw new CommandFailedError(
        `campaign ${campaignId} already exists; nothing was imported (choose another id with --as)`,
      );
    }
    throw error;
  }
  await analyzeImported(db);
}

/**
 * Fresh planner statistics for the tables an import fills, as after any bulk load: paged reads (an
 * export, `verify`) walk a campaign by id, and on a table Postgres has no statistics for yet it sorted
 * the rest of the campaign for every page, 2 s a page for 1,000,000 entities (bench/results/NOTES.md),
 * until autovacuum's analyze came round. ANALYZE reads a sample and blocks neither reads nor writes; a
 * role that does not own a table gets a warning for it, not an error.
 */
async function analyzeImported(db: Kysely<Database>): Promise<void> {
  await sql`analyze entities, snapshot_entities, event_chunks, event_entity_ranges`.execute(db);
}

async function* pages<T>(items: AsyncIterable<T>, size: number): AsyncGenerator<T[]> {
  let page: T[] = [];
  for await (const item of items) {
    page.push(item);
    if (page.length >= size) {
      yield page;
      page = [];
    }
  }
  if (page.length > 0) yield page;
}
