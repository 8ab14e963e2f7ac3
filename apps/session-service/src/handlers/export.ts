import { LorekeeperError, WORLD_FORMAT } from '@lorekeeper/domain';
import type { Entity } from '@lorekeeper/domain';
import { findCampaign, inReadSnapshot, readCheckpoint, streamEntities } from '@lorekeeper/pg-store';
import type { ExportReply } from '@lorekeeper/protocol';
import type { SessionDeps } from '../deps';

/** NATS's default max_payload; a larger export must go through `lorekeeper world export`. */
export const MAX_EXPORT_BYTES = 1024 * 1024;

/** `campaign.<id>.export`: a world document of the durable state, at the campaign's checkpoint. */
export async function exportCampaign(deps: SessionDeps, campaignId: string): Promise<ExportReply> {
  const document = await inReadSnapshot(deps.db, async (reader) => {
    const campaign = await findCampaign(reader, campaignId);
    if (!campaign) throw new LorekeeperError('CAMPAIGN_NOT_FOUND', `campaign ${campaignId} does not exist`);
    const checkpoint = await readCheckpoint(reader, campaignId);
    const entities: Entity[] = [];
    for await (const page of streamEntities(reader, campaignId, 5_000)) entities.push(...page);
    return { format: WORLD_FORMAT, campaignId, name: campaign.name, seq: checkpoint.seq, entities } as const;
  });
  const bytes = Buffer.byteLength(JSON.stringify(document));
  if (bytes > MAX_EXPORT_BYTES) {
    throw new LorekeeperError(
      'PAYLOAD_TOO_LARGE',
      `the export of ${campaignId} is ${bytes} bytes, over the ${MAX_EXPORT_BYTES} a NATS reply holds; ` +
        'use `npx lorekeeper world export` instead',
    );
  }
  return document;
}
