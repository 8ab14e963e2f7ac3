import type { Kysely } from 'kysely';
import type { Database } from '@lorekeeper/pg-store';
import { recordDeadLetter, setCampaignStatus } from '@lorekeeper/pg-store';
import type { ReadEntry } from '@lorekeeper/redis-store';
import { decodedWhole, withoutJson } from '@lorekeeper/redis-store';

/**
 * Record a stream entry that does not apply as a dead letter and quarantine its campaign, in one
 * transaction: a campaign with an open letter is quarantined, never left active for the next owner to
 * fold the same entry into a second letter (DESIGN.md, invariant 9).
 */
export async function quarantineWithLetter(
  db: Kysely<Database>,
  campaignId: string,
  entry: ReadEntry,
  error: string,
): Promise<void> {
  // A transient event read by type only has its data and meta parsed now (or its raw fields kept).
  const whole = decodedWhole(entry);
  await db.transaction().execute(async (trx) => {
    await recordDeadLetter(trx, {
      campaignId,
      streamId: whole.streamId,
      seq: whole.ok ? whole.event.seq : null,
      payload: whole.ok ? withoutJson(whole.event) : { fields: whole.fields },
      error,
    });
    await setCampaignStatus(trx, campaignId, 'quarantined');
  });
}
