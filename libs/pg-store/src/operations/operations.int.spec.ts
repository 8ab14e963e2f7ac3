import {
  insertCampaign,
  listDeadLetters,
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
