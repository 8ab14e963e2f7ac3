import {
  insertCampaign,
  listDeadLetters,
  pruneSyncLog,
  readSyncLog,
  recordDeadLetter,
  recordSync,
  resolveDeadLetter,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

describe('sync log and dead letters', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('operations');
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'c1', name: 'One' });
      await insertCampaign(trx, { id: 'c2', name: 'Two' });
      for (const id of ['old-busy', 'old-idle', 'old-failing', 'recent'])
        await insertCampaign(trx, { id, name: id });
    });
  });
  afterAll(async () => {
    await test.destroy();
  });

  it('records flushes, committed inside their transaction and failed ones outside, newest first', async () => {
    const committed = {
      campaignId: 'c1',
      fromSeq: 1,
      toSeq: 40,
      entitiesWritten: 7,
      entitiesDeleted: 1,
      eventsArchived: 40,
      durationMs: 12.6,
      trigger: 'autosave',
    } as const;
    await test.db.transaction().execute((trx) => recordSync(trx, committed));
    const failedId = await recordSync(test.db, {
      ...committed,
      fromSeq: 41,
      toSeq: 50,
      entitiesWritten: 0,
      entitiesDeleted: 0,
      eventsArchived: 0,
      durationMs: 3,
      trigger: 'manual',
      error: 'connection terminated',
    });
    const log = await readSyncLog(test.db, 'c1');
    expect(log.map((entry) => entry.id)).toEqual([failedId, failedId - 1]);
    expect(log[1]).toMatchObject({ ...committed, durationMs: 13, error: null });
    expect(log[0]).toMatchObject({ trigger: 'manual', error: 'connection terminated', toSeq: 50 });
    expect(log[0]?.createdAt).toBeInstanceOf(Date);
    expect(await readSyncLog(test.db, 'c2')).toEqual([]);
  });

  it("prunes flushes older than the cut-off, keeping each campaign's latest committed one", async () => {
    const day = 86_400_000;
    const now = Date.now();
    const log = async (campaignId: string, daysAgo: number, error: string | null = null) => {
      const id = await recordSync(test.db, {
        campaignId,
        fromSeq: 1,
        toSeq: 1,
        entitiesWritten: 0,
        entitiesDeleted: 0,
        eventsArchived: 0,
        durationMs: 1,
        trigger: 'autosave',
        error,
      });
      await test.db
        .updateTable('sync_log')
        .set({ created_at: new Date(now - daysAgo * day) })
        .where('id', '=', id)
        .execute();
      return id;
    };
    // A busy campaign: old flushes, then recent ones.
    const busy = [
      await log('old-busy', 30),
      await log('old-busy', 20),
      await log('old-busy', 1),
      await log('old-busy', 0),
    ];
    // Idle for a month: its last committed flush stays, whatever its age; a failure before it goes.
    const idle = [
      await log('old-idle', 40, 'connection refused'),
      await log('old-idle', 35),
      await log('old-idle', 31),
    ];
    // Only failures: nothing committed to keep in their place, so they stay.
    const failing = [await log('old-failing', 50, 'timeout'), await log('old-failing', 45, 'timeout')];
    const recent = [await log('recent', 2), await log('recent', 0)];

    // Batches of two ids: the range is crossed in several statements.
    expect(await pruneSyncLog(test.db, new Date(now - 7 * day), 2)).toBe(4);

    const ids = async (campaignId: string) =>
      (await readSyncLog(test.db, campaignId)).map((e) => e.id).reverse();
    expect(await ids('old-busy')).toEqual(busy.slice(2));
    expect(await ids('old-idle')).toEqual(idle.slice(2));
    expect(await ids('old-failing')).toEqual(failing);
    expect(await ids('recent')).toEqual(recent);
    // Nothing left to prune; a cut-off before every row deletes nothing.
    expect(await pruneSyncLog(test.db, new Date(now - 7 * day))).toBe(0);
    expect(await pruneSyncLog(test.db, new Date(now - 100 * day))).toBe(0);
  });

  it('records a dead letter once per open stream entry, counting attempts', async () => {
    const letter = {
      campaignId: 'c1',
      streamId: '1700000000000-7',
      seq: 7,
      payload: { type: 'x' },
      error: 'boom',
    };
    const first = await recordDeadLetter(test.db, letter);
    expect(first).toMatchObject({
      ...letter,
      attempts: 1,
      status: 'open',
      resolvedAt: null,
      resolvedBy: null,
    });
    const second = await recordDeadLetter(test.db, { ...letter, error: 'boom again' });
    expect(second).toMatchObject({ id: first.id, attempts: 2, error: 'boom again' });

    const broken = await recordDeadLetter(test.db, {
      campaignId: 'c2',
      streamId: '1700000000000-1',
      seq: null,
      payload: { raw: 'not json' },
      error: 'unparseable entry',
    });
    expect(broken.seq).toBeNull();

    expect((await listDeadLetters(test.db)).map((l) => l.id)).toEqual([first.id, broken.id]);
    expect((await listDeadLetters(test.db, { campaignId: 'c2' })).map((l) => l.id)).toEqual([broken.id]);
    expect(await listDeadLetters(test.db, { status: 'skipped' })).toEqual([]);
  });

  it('resolves an open letter once, after which the same entry may be quarantined anew', async () => {
    const [open] = await listDeadLetters(test.db, { campaignId: 'c1', status: 'open' });
    expect(await resolveDeadLetter(test.db, open!.id, 'skipped', 'operator@example')).toBe(true);
    expect(await resolveDeadLetter(test.db, open!.id, 'retried', 'someone else')).toBe(false);
    const [resolved] = await listDeadLetters(test.db, { campaignId: 'c1', status: 'skipped' });
    expect(resolved).toMatchObject({ id: open!.id, resolvedBy: 'operator@example' });
    expect(resolved?.resolvedAt).toBeInstanceOf(Date);

    const anew = await recordDeadLetter(test.db, {
      campaignId: 'c1',
      streamId: open!.streamId,
      seq: open!.seq,
      payload: open!.payload,
      error: 'failed after retry',
    });
    expect(anew.id).not.toBe(open!.id);
    expect(anew.attempts).toBe(1);
  });
});
