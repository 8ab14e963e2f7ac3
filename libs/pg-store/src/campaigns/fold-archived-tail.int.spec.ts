import { LorekeeperError } from '@lorekeeper/domain';
import { createTestDatabase, tinyWorld, type TestDatabase } from '@lorekeeper/testing';
import type { EntryToArchive } from '../events/archive-events';
import {
  advanceArchived,
  archiveEvents,
  createCampaignFromWorld,
  findCampaign,
  findEntities,
  foldArchivedTail,
  lockPosition,
  readPosition,
  readSyncLog,
} from '../index';

/**
 * A flush for a major event archives past the entity checkpoint (docs/architecture.md, "Major events:
 * the archive first"); a session start after Redis lost the campaign folds that tail into the entities.
 */
describe('the archive past the checkpoint', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('archived_tail');
  });
  afterAll(async () => {
    await test.destroy();
  });

  const at = '2026-11-27T12:00:00.000Z';
  const event = (
    seq: number,
    type: string,
    entityId: string,
    version: number,
    data: object,
  ): EntryToArchive => ({
    seq,
    streamId: `${seq}-0`,
    type,
    entityId,
    version,
    data,
    meta: { sessionId: 's1', batchId: `b${seq}`, at },
  });

  /** A campaign whose archive holds `events` and reaches `archivedSeq`, the entities still at seq 0. */
  async function archivedAhead(campaignId: string, events: EntryToArchive[], archivedSeq: number) {
    await test.db.transaction().execute(async (trx) => {
      await createCampaignFromWorld(trx, { id: campaignId, name: campaignId }, tinyWorld.entities);
      await archiveEvents(trx, campaignId, events);
      await advanceArchived(trx, campaignId, { seq: archivedSeq, streamId: `${archivedSeq}-0` });
    });
  }

  it('reads the archive position only where it is past the checkpoint', async () => {
    await test.db
      .transaction()
      .execute((trx) => createCampaignFromWorld(trx, { id: 'plain', name: 'plain' }, tinyWorld.entities));
    const origin = { seq: 0, streamId: '0-0' };
    expect(await readPosition(test.db, 'plain')).toEqual({ checkpoint: origin, archived: origin });
    await expect(readPosition(test.db, 'nope')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
  });

  it('folds the archived events into the entities they touch and moves the checkpoint to where the archive ends', async () => {
    await archivedAhead(
      'tail',
      [
        event(1, 'player.gold.changed', 'player:alice', 1, { delta: 5 }),
        event(2, 'quest.started', 'quest:rats', 1, { playerId: 'player:alice' }),
        event(3, 'player.gold.changed', 'player:alice', 2, { delta: 1 }),
        event(4, 'item.destroyed', 'item:coin', 1, {}),
        event(5, 'quest.completed', 'quest:rats', 2, {}),
      ],
      // Seq 6 was transient: the archive's position passes its last event.
      6,
    );
    expect((await findCampaign(test.db, 'tail'))?.archived).toEqual({ seq: 6, streamId: '6-0' });

    const folded = await test.db.transaction().execute(async (trx) => {
      const position = await lockPosition(trx, 'tail', 'update');
      return foldArchivedTail(trx, 'tail', position);
    });

    expect(folded).toBe(5);
    const byId = new Map(
      (await findEntities(test.db, 'tail', ['player:alice', 'quest:rats', 'item:coin'])).map((e) => [
        e.id,
        e,
      ]),
    );
    expect(byId.get('player:alice')).toMatchObject({ version: 2, state: { gold: 16 } });
    expect(byId.get('quest:rats')).toMatchObject({ version: 2, state: { status: 'completed' } });
    expect(byId.has('item:coin')).toBe(false);
    expect(await readPosition(test.db, 'tail')).toEqual({
      checkpoint: { seq: 6, streamId: '6-0' },
      archived: { seq: 6, streamId: '6-0' },
    });
    expect((await readSyncLog(test.db, 'tail'))[0]).toMatchObject({
      trigger: 'archived-tail',
      fromSeq: 1,
      toSeq: 6,
      entitiesWritten: 2,
      entitiesDeleted: 1,
    });

    // Nothing is left to fold.
    const again = await test.db
      .transaction()
      .execute(async (trx) => foldArchivedTail(trx, 'tail', await lockPosition(trx, 'tail', 'update')));
    expect(again).toBe(0);
  });

  it('refuses an archived event that does not follow the entities, and changes nothing', async () => {
    await archivedAhead('skewed', [event(1, 'player.gold.changed', 'player:alice', 3, { delta: 5 })], 1);

    const folding = test.db
      .transaction()
      .execute(async (trx) => foldArchivedTail(trx, 'skewed', await lockPosition(trx, 'skewed', 'update')));

    await expect(folding).rejects.toThrow(LorekeeperError);
    await expect(folding).rejects.toThrow(/version 3.*at 0/);
    expect((await readPosition(test.db, 'skewed')).checkpoint.seq).toBe(0);
    expect((await findEntities(test.db, 'skewed', ['player:alice']))[0]).toMatchObject({ version: 0 });
  });
});
