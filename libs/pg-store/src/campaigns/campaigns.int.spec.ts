import { LorekeeperError } from '@lorekeeper/domain';
import {
  INITIAL_CHECKPOINT,
  advanceCheckpoint,
  findCampaign,
  insertCampaign,
  readCheckpoint,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

describe('campaigns and checkpoints', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('campaigns');
  });
  afterAll(async () => {
    await test.destroy();
  });

  it('creates a campaign at checkpoint 0 and finds it', async () => {
    const created = await test.db
      .transaction()
      .execute((trx) => insertCampaign(trx, { id: 'c1', name: 'The Sunken Vale' }));
    expect(created).toMatchObject({
      id: 'c1',
      name: 'The Sunken Vale',
      status: 'active',
      checkpoint: INITIAL_CHECKPOINT,
    });
    expect(await findCampaign(test.db, 'c1')).toEqual(created);
    expect(await findCampaign(test.db, 'nope')).toBeUndefined();
  });

  it('refuses a duplicate id with CAMPAIGN_EXISTS and leaves the transaction usable', async () => {
    const outcome = await test.db.transaction().execute(async (trx) => {
      const error: unknown = await insertCampaign(trx, { id: 'c1', name: 'Again' }).catch((e: unknown) => e);
      // The transaction is not aborted: the caller can go on (or decide to roll back).
      const other = await insertCampaign(trx, { id: 'c1-other', name: 'Other' });
      return { error, other };
    });
    expect(outcome.error).toBeInstanceOf(LorekeeperError);
    expect(outcome.error).toMatchObject({ code: 'CAMPAIGN_EXISTS', details: { campaignId: 'c1' } });
    expect(outcome.other.id).toBe('c1-other');
    expect((await findCampaign(test.db, 'c1'))?.name).toBe('The Sunken Vale');
  });

  it('refuses with CAMPAIGN_EXISTS when two creators race for one id', async () => {
    const attempts = await Promise.allSettled(
      [1, 2, 3].map((n) =>
        test.db.transaction().execute((trx) => insertCampaign(trx, { id: 'race', name: `r${n}` })),
      ),
    );
    expect(attempts.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
    const refusals = attempts.flatMap((a) => (a.status === 'rejected' ? [a.reason as LorekeeperError] : []));
    expect(refusals.map((e) => e.code)).toEqual(['CAMPAIGN_EXISTS', 'CAMPAIGN_EXISTS']);
  });

  it('reads the checkpoint, and CAMPAIGN_NOT_FOUND for a missing campaign', async () => {
    expect(await readCheckpoint(test.db, 'c1')).toEqual({ seq: 0, streamId: '0-0' });
    await expect(readCheckpoint(test.db, 'missing')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
  });

  it('advances the checkpoint only from the expected value (compare-and-set)', async () => {
    const first = { seq: 5, streamId: '1700000000000-4' };
    const moved = await test.db
      .transaction()
      .execute((trx) => advanceCheckpoint(trx, 'c1', INITIAL_CHECKPOINT, first));
    expect(moved).toBe(true);
    expect(await readCheckpoint(test.db, 'c1')).toEqual(first);

    // A second worker still holding the old position is fenced out and changes nothing.
    const stale = await test.db
      .transaction()
      .execute((trx) =>
        advanceCheckpoint(trx, 'c1', INITIAL_CHECKPOINT, { seq: 9, streamId: '1700000000000-8' }),
      );
    expect(stale).toBe(false);
    expect(await readCheckpoint(test.db, 'c1')).toEqual(first);

    // Same seq but another stream id (a Redis that came back different) is not the expected value either.
    const wrongStream = await test.db
      .transaction()
      .execute((trx) =>
        advanceCheckpoint(trx, 'c1', { seq: 5, streamId: '0-5' }, { seq: 6, streamId: '0-6' }),
      );
    expect(wrongStream).toBe(false);
  });

  it('lets exactly one of two concurrent workers advance from the same checkpoint', async () => {
    const from = await readCheckpoint(test.db, 'c1');
    const results = await Promise.all(
      [1, 2].map((n) =>
        test.db.transaction().execute(async (trx) => {
          const ok = await advanceCheckpoint(trx, 'c1', from, {
            seq: from.seq + n,
            streamId: `1700000000001-${n}`,
          });
          // Hold the row lock a moment so the other worker really waits on it.
          await new Promise((resolve) => setTimeout(resolve, 50));
          return ok;
        }),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = results.indexOf(true) + 1;
    expect(await readCheckpoint(test.db, 'c1')).toEqual({
      seq: from.seq + winner,
      streamId: `1700000000001-${winner}`,
    });
  });

  it('refuses to move a checkpoint backwards', async () => {
    const from = await readCheckpoint(test.db, 'c1');
    await expect(
      test.db
        .transaction()
        .execute((trx) => advanceCheckpoint(trx, 'c1', from, { seq: from.seq - 1, streamId: '0-1' })),
    ).rejects.toMatchObject({ code: 'INTERNAL' });
  });
});
