import type { EntryToArchive } from '../index';
import { archiveEvents, countEvents, indexEntityRange, readEvents } from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';

/** One gold change, the only kind of event these tests need: only its seq and entity matter. */
const gold = (seq: number, entityId: string): EntryToArchive => ({
  seq,
  streamId: `1700000000000-${seq}`,
  type: 'player.gold.changed',
  entityId,
  data: { delta: 1 },
  version: seq,
  meta: { sessionId: 's1', batchId: `b${seq}`, at: '2026-11-25T12:00:00.000Z' },
});

// The entity index (migration 0012): a flush on the save cadence indexes the range it made durable,
// the chunks major events' flushes archived before it included; what lies past the last range is
// found from the chunks' own ids.
describe("one entity's history across the index and the chunks past it", () => {
  let test: TestDatabase;
  const archive = (events: EntryToArchive[], indexTo?: number) =>
    test.db.transaction().execute(async (trx) => {
      await archiveEvents(trx, 'r1', events);
      if (indexTo !== undefined) await indexEntityRange(trx, 'r1', indexTo);
    });
  const historyOf = async (entityId: string, fromSeq?: number) =>
    (await readEvents(test.db, 'r1', { entityId, ...(fromSeq !== undefined && { fromSeq }) })).map(
      (e) => e.seq,
    );
  const ranges = async () =>
    test.db
      .selectFrom('event_entity_ranges')
      .select(['first_seq', 'last_seq', 'entity_ids'])
      .where('campaign_id', '=', 'r1')
      .orderBy('first_seq')
      .execute();

  beforeAll(async () => {
    test = await createTestDatabase('entity_ranges');
    // A major event's chunk (1-2), a flush on the save cadence indexing it with its own (3-5), then two
    // majors' chunks past the index (6-7, 8-9).
    await archive([gold(1, 'player:x'), gold(2, 'player:y')]);
    await archive([gold(3, 'player:y'), gold(4, 'player:z'), gold(5, 'player:y')], 5);
    await archive([gold(6, 'player:x'), gold(7, 'player:x')]);
    await archive([gold(8, 'player:z'), gold(9, 'player:w')]);
  });
  afterAll(() => test.destroy());

  it('indexes one range per flush with each entity once, the earlier chunks included', async () => {
    const indexed = await ranges();
    expect(indexed.map((r) => [r.first_seq, r.last_seq, [...r.entity_ids].sort()])).toEqual([
      [1, 5, ['player:x', 'player:y', 'player:z']],
    ]);
  });

  it('finds an entity in the indexed range and in the chunks past it, in seq order', async () => {
    expect(await historyOf('player:x')).toEqual([1, 6, 7]);
    expect(await historyOf('player:y')).toEqual([2, 3, 5]);
    expect(await historyOf('player:z')).toEqual([4, 8]);
    expect(await historyOf('player:w')).toEqual([9]);
    expect(await historyOf('player:nobody')).toEqual([]);
    expect(await historyOf('player:x', 2)).toEqual([6, 7]);
    expect(await countEvents(test.db, 'r1', { entityId: 'player:z', toSeq: 8 })).toBe(2);
  });

  it('gathers the chunks past the index into the next range, and writes none when nothing is new', async () => {
    await test.db.transaction().execute(async (trx) => {
      await indexEntityRange(trx, 'r1', 9);
      await indexEntityRange(trx, 'r1', 9);
    });
    const indexed = await ranges();
    expect(indexed.map((r) => [r.first_seq, r.last_seq, [...r.entity_ids].sort()])).toEqual([
      [1, 5, ['player:x', 'player:y', 'player:z']],
      [6, 9, ['player:w', 'player:x', 'player:z']],
    ]);
    expect(await historyOf('player:x')).toEqual([1, 6, 7]);
    expect(await historyOf('player:z')).toEqual([4, 8]);
    expect(await historyOf('player:y', 4)).toEqual([5]);
  });
});
