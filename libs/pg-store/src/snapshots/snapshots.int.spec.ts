import type { Entity } from '@lorekeeper/domain';
import {
  advanceCheckpoint,
  createSnapshot,
  insertCampaign,
  insertEntities,
  listSnapshots,
  upsertEntities,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

const region = (name: string): Entity => ({
  id: `region:${name}`,
  kind: 'region',
  version: 0,
  state: { name, neighbors: [] },
});

describe('snapshots', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('snapshots');
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'c1', name: 'One' });
      await insertEntities(trx, 'c1', [region('a'), region('b')]);
    });
  });
  afterAll(async () => {
    await test.destroy();
  });

  it('saves the durable state with its checkpoint seq, and later changes leave it alone', async () => {
    await test.db
      .transaction()
      .execute((trx) =>
        advanceCheckpoint(trx, 'c1', { seq: 0, streamId: '0-0' }, { seq: 3, streamId: '1-3' }),
      );
    const snapshot = await createSnapshot(test.db, 'c1', 'before the dragon');
    expect(snapshot).toMatchObject({ campaignId: 'c1', name: 'before the dragon', seq: 3, entityCount: 2 });

    await test.db
      .transaction()
      .execute((trx) =>
        upsertEntities(trx, 'c1', [{ ...region('a'), version: 1, state: { name: 'A!', neighbors: [] } }]),
      );
    const rows = await test.db
      .selectFrom('snapshot_entities')
      .select(['id', 'kind', 'version', 'state'])
      .where('snapshot_id', '=', snapshot.id)
      .orderBy('id')
      .execute();
    expect(rows).toEqual([region('a'), region('b')]);
    expect(await listSnapshots(test.db, 'c1')).toEqual([snapshot]);
  });

  it('copies the same state in paced chunks, and rolls back a copy abandoned between chunks', async () => {
    const whole = await createSnapshot(test.db, 'c1', 'whole');
    const paced = await createSnapshot(test.db, 'c1', 'paced', { chunkRows: 1, restRatio: 1 });
    expect(paced).toMatchObject({ seq: whole.seq, entityCount: 2 });
    const stateOf = (snapshotId: number) =>
      test.db
        .selectFrom('snapshot_entities')
        .select(['id', 'kind', 'version', 'state'])
        .where('snapshot_id', '=', snapshotId)
        .orderBy('id')
        .execute();
    expect(await stateOf(paced.id)).toEqual(await stateOf(whole.id));

    const stopping = new AbortController();
    stopping.abort(new Error('the worker is stopping'));
    await expect(
      createSnapshot(test.db, 'c1', 'abandoned', { chunkRows: 1, restRatio: 0, signal: stopping.signal }),
    ).rejects.toThrow('the worker is stopping');
    expect((await listSnapshots(test.db, 'c1')).map((s) => s.name)).not.toContain('abandoned');
    for (const snapshot of [whole, paced]) {
      await test.db.deleteFrom('snapshots').where('id', '=', snapshot.id).execute();
    }
  });

  it('refuses a second snapshot of the same name, and a missing campaign', async () => {
    await expect(createSnapshot(test.db, 'c1', 'before the dragon')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(createSnapshot(test.db, 'nope', 'x')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
    expect(await listSnapshots(test.db, 'c1')).toHaveLength(1);
  });
});
