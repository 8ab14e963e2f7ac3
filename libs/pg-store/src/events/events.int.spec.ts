import type { RecordedEvent } from '@lorekeeper/domain';
import { archiveEvents, countEvents, insertCampaign, lastArchivedSeq, readEvents } from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

type Archivable = RecordedEvent & { streamId: string };

const event = (seq: number, entityId: string, type: string, data: unknown, version: number): Archivable => ({
  seq,
  streamId: `1700000000000-${seq}`,
  type,
  entityId,
  data,
  version,
  meta: { sessionId: 's1', batchId: `b${Math.ceil(seq / 2)}`, at: `2026-11-25T12:00:0${seq % 10}.000Z` },
});

const EVENTS: Archivable[] = [
  event(1, 'player:alice', 'player.gold.changed', { delta: 10 }, 1),
  event(2, 'player:alice', 'player.moved', { regionId: 'region:forest' }, 2),
  event(3, 'item:sword', 'item.moved', { fromId: 'player:alice', toId: 'region:forest' }, 4),
  event(4, 'world', 'world.flag.set', { key: 'gate', value: { open: true, by: ['player:alice'] } }, 1),
  event(5, 'player:alice', 'player.xp.gained', { amount: 3 }, 3),
];

describe('event archive', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('events');
    await test.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: 'c1', name: 'One' });
      await insertCampaign(trx, { id: 'c2', name: 'Two' });
    });
  });
  afterAll(async () => {
    await test.destroy();
  });

  it('archives events and reads them back exactly, in seq order', async () => {
    const archived = await test.db
      .transaction()
      .execute((trx) => archiveEvents(trx, 'c1', [...EVENTS].reverse()));
    expect(archived).toBe(5);
    await test.db.transaction().execute((trx) => archiveEvents(trx, 'c2', [EVENTS[0]!]));

    const read = await readEvents(test.db, 'c1');
    expect(read).toEqual(EVENTS.map((e) => ({ ...e, recordedAt: new Date(e.meta.at) })));
    expect(typeof read[0]?.seq).toBe('number');
  });

  it('reads a seq range, a limit, and one entity’s history', async () => {
    const seqs = async (range: Parameters<typeof readEvents>[2]) =>
      (await readEvents(test.db, 'c1', range)).map((e) => e.seq);
    expect(await seqs({ fromSeq: 2, toSeq: 4 })).toEqual([2, 3, 4]);
    expect(await seqs({ fromSeq: 3 })).toEqual([3, 4, 5]);
    expect(await seqs({ toSeq: 1 })).toEqual([1]);
    expect(await seqs({ fromSeq: 2, limit: 2 })).toEqual([2, 3]);
    expect(await seqs({ entityId: 'player:alice' })).toEqual([1, 2, 5]);
    expect(await seqs({ fromSeq: 6 })).toEqual([]);
    expect(await readEvents(test.db, 'c2')).toHaveLength(1);
  });

  it('filters by type and by recorded time, and counts with the same filter', async () => {
    const seqs = async (range: Parameters<typeof readEvents>[2]) =>
      (await readEvents(test.db, 'c1', range)).map((e) => e.seq);
    expect(await seqs({ types: ['player.moved', 'world.flag.set'] })).toEqual([2, 4]);
    expect(await seqs({ types: [] })).toEqual([]);
    const fromTime = new Date('2026-11-25T12:00:02.000Z');
    const toTime = new Date('2026-11-25T12:00:04.000Z');
    expect(await seqs({ fromTime, toTime })).toEqual([2, 3, 4]);
    expect(await seqs({ fromTime, types: ['player.xp.gained'], entityId: 'player:alice' })).toEqual([5]);
    expect(await countEvents(test.db, 'c1', { fromTime, toTime, types: ['item.moved'] })).toBe(1);
    expect(await lastArchivedSeq(test.db, 'c1')).toBe(5);
    expect(await lastArchivedSeq(test.db, 'nobody')).toBe(0);
  });

  it('refuses to archive a seq twice, rolling back the whole batch', async () => {
    const again = [event(6, 'player:alice', 'player.xp.gained', { amount: 1 }, 4), EVENTS[4]!];
    await expect(
      test.db.transaction().execute((trx) => archiveEvents(trx, 'c1', again)),
    ).rejects.toMatchObject({
      code: '23505',
    });
    expect((await readEvents(test.db, 'c1')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('archives a batch larger than one chunk', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) =>
      event(100 + i, `player:p${i % 50}`, 'player.xp.gained', { amount: 1 }, 1 + Math.floor(i / 50)),
    );
    expect(await test.db.transaction().execute((trx) => archiveEvents(trx, 'c2', many))).toBe(12_000);
    const page = await readEvents(test.db, 'c2', { fromSeq: 100, limit: 12_000 });
    expect(page.map((e) => e.seq)).toEqual(many.map((e) => e.seq));
  });
});
