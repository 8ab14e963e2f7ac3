import { LorekeeperError, parseWorldDocument } from '@lorekeeper/domain';
import { createCampaignFromWorld } from '@lorekeeper/pg-store';
import type { CreateReply } from '@lorekeeper/protocol';
import type { SessionDeps } from '../deps';

/**
 * `campaign.<id>.create`: validate a world document and write it to Postgres in one transaction, with
 * its first snapshot (the base every replay folds from).
 */
export async function createCampaign(
  deps: SessionDeps,
  campaignId: string,
  body: unknown,
): Promise<CreateReply> {
  const world = parseWorldDocument(body, deps.registry);
  if (world.campaignId !== campaignId) {
    throw new LorekeeperError(
      'BAD_REQUEST',
      `the subject names campaign ${campaignId} but the document is for ${world.campaignId}`,
    );
  }
  if (world.seq !== 0) {
    throw new LorekeeperError(
      'BAD_REQUEST',
      `create takes a world document with seq 0, found seq ${world.seq}`,
    );
  }
  await deps.db
    .transaction()
    .execute((trx) => createCampaignFromWorld(trx, { id: campaignId, name: world.name }, world.entities));
  return { campaignId, entities: world.entities.length };
}
