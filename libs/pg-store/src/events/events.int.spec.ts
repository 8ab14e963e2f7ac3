import type { RecordedEvent } from '@lorekeeper/domain';
import {
  ARCHIVE_CHUNK_EVENTS,
  archiveEvents,
  countEvents,
  indexEntityRange,
  insertCampaign,
  lastArchivedSeq,
  lastArchivedSeqAt,
  readEvents,
  readSyncLog,
  syncLogInsert,
} from '../index';
import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';
import { sql } from 'kysely';

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

  it('takes an event’s own JSON as it is when given, and reads back the same events', async () => {
    await test.db.transaction().execute((trx) => insertCampaign(trx, { id: 'c-json', name: 'Json' }));
    const withJson = EVENTS.map((e) => ({
      ...e,
      json: JSON.stringify({
        type: e.type,
        entityId: e.entityId,
        version: e.version,
        data: e.data,
        meta: e.meta,
      }),
    }));
    await test.db.transaction().execute((trx) => archiveEvents(trx, 'c-json', withJson));

    expect(await readEvents(test.db, 'c-json')).toEqual(await readEvents(test.db, 'c1'));
    const viewRows = await test.db
      .selectFrom('events')
      .select(['seq', 'stream_id', 'type', 'data'])
      .where('campaign_id', '=', 'c-json')
      .orderBy('seq')
      .execute();
    expect(viewRows.map((row) => [row.seq, row.stream_id, row.type])).toEqual(
      EVENTS.map((e) => [e.seq, e.streamId, e.type]),
    );
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

  it('runs the statements given alongside in the same statement, and undoes them with a refused archive', async () => {
    await test.db.transaction().execute((trx) => insertCampaign(trx, { id: 'c-along', name: 'Along' }));
    const log = (trx: Parameters<typeof syncLogInsert>[0], toSeq: number) =>
      syncLogInsert(trx, {
        campaignId: 'c-along',
        fromSeq: 1,
        toSeq,
        entitiesWritten: 0,
        entitiesDeleted: 0,
        eventsArchived: 0,
        durationMs: 1,
        trigger: 'major',
      });
    const logged = async () => (await readSyncLog(test.db, 'c-along')).map((entry) => entry.toSeq);
    await test.db
      .transaction()
      .execute((trx) => archiveEvents(trx, 'c-along', EVENTS.slice(0, 2), [log(trx, 2)]));
    // No events: the statements alongside still run.
    await test.db.transaction().execute((trx) => archiveEvents(trx, 'c-along', [], [log(trx, 3)]));
    expect(await logged()).toEqual([3, 2]);

    await expect(
      test.db
        .transaction()
        .execute((trx) => archiveEvents(trx, 'c-along', EVENTS.slice(1, 3), [log(trx, 4)])),
    ).rejects.toThrow(/seq 2 is at or below the archive's last seq 2/);
    expect(await logged()).toEqual([3, 2]);
    expect((await readEvents(test.db, 'c-along')).map((e) => e.seq)).toEqual([1, 2]);
  });

  it('refuses to archive a seq twice, rolling back the whole batch', async () => {
    const again = [event(6, 'player:alice', 'player.xp.gained', { amount: 1 }, 4), EVENTS[4]!];
    await expect(test.db.transaction().execute((trx) => archiveEvents(trx, 'c1', again))).rejects.toThrow(
      /seq 5 is at or below the archive's last seq 5/,
    );
    const twice = [
      event(6, 'player:alice', 'player.xp.gained', { amount: 1 }, 4),
      event(6, 'world', 'world.flag.set', {}, 2),
    ];
    await expect(test.db.transaction().execute((trx) => archiveEvents(trx, 'c1', twice))).rejects.toThrow(
      /a seq appears twice/,
    );
    expect((await readEvents(test.db, 'c1')).map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
  });

  it('shows the archive as rows through the events view', async () => {
    const rows = await test.db
      .selectFrom('events')
      .selectAll()
      .where('campaign_id', '=', 'c1')
      .orderBy('seq')
      .execute();
    expect(rows).toEqual(
      EVENTS.map((e) => ({
        campaign_id: 'c1',
        seq: e.seq,
        stream_id: e.streamId,
        type: e.type,
        entity_id: e.entityId,
        version: e.version,
        data: e.data,
        meta: e.meta,
        recorded_at: new Date(e.meta.at),
      })),
    );
  });

  describe('in chunks', () => {
    // 2,500 events on 50 players: chunks of 1,000, 1,000 and 500; every 7th event was recorded 100 s early.
    const many = Array.from({ length: 2_500 }, (_, i) => ({
      ...event(
        1_000 + i,
        `player:p${i % 50}`,
        i % 3 === 0 ? 'player.moved' : 'player.xp.gained',
        { amount: 1 },
        1 + Math.floor(i / 50),
      ),
      meta: {
        sessionId: 's1',
        batchId: `b${i}`,
        at: new Date(Date.UTC(2026, 10, 25, 13) + (i % 7 === 0 ? i - 100 : i) * 1_000).toISOString(),
      },
    }));
    const seqs = async (range: Parameters<typeof readEvents>[2]) =>
      (await readEvents(test.db, 'c3', range)).map((e) => e.seq);
    const expected = (keep: (e: (typeof many)[number]) => boolean) => many.filter(keep).map((e) => e.seq);

    beforeAll(async () => {
      await test.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id: 'c3', name: 'Three' });
        await archiveEvents(trx, 'c3', many.slice(0, 1_800));
      });
      await test.db.transaction().execute((trx) => archiveEvents(trx, 'c3', many.slice(1_800)));
    });

    it(`cuts each batch into chunks of ${ARCHIVE_CHUNK_EVENTS} events`, async () => {
      const chunks = await test.db
        .selectFrom('event_chunks')
        .select(['first_seq', 'last_seq', 'event_count'])
        .where('campaign_id', '=', 'c3')
        .orderBy('first_seq')
        .execute();
      expect(chunks).toEqual([
        { first_seq: 1_000, last_seq: 1_999, event_count: 1_000 },
        { first_seq: 2_000, last_seq: 2_799, event_count: 800 },
        { first_seq: 2_800, last_seq: 3_499, event_count: 700 },
      ]);
    });

    it('reads ranges and limits across chunk boundaries', async () => {
      expect(await seqs({ fromSeq: 1_998, toSeq: 2_001 })).toEqual([1_998, 1_999, 2_000, 2_001]);
      expect(await seqs({ fromSeq: 2_790, limit: 15 })).toEqual(expected((e) => e.seq >= 2_790).slice(0, 15));
      expect(await seqs({})).toEqual(expected(() => true));
      expect(await countEvents(test.db, 'c3', { fromSeq: 1_500, toSeq: 3_000 })).toBe(1_501);
      expect(await countEvents(test.db, 'c3', { fromSeq: 2_000, toSeq: 2_799 })).toBe(800);
      expect(await countEvents(test.db, 'c3')).toBe(2_500);
      expect(await lastArchivedSeq(test.db, 'c3')).toBe(3_499);
    });

    it('filters by entity, type and time inside chunks', async () => {
      expect(await seqs({ entityId: 'player:p7' })).toEqual(expected((e) => e.entityId === 'player:p7'));
      expect(await seqs({ entityId: 'player:nobody' })).toEqual([]);
      const fromTime = new Date(Date.UTC(2026, 10, 25, 13) + 1_200_000);
      const toTime = new Date(Date.UTC(2026, 10, 25, 13) + 1_300_000);
      const inTime = (e: (typeof many)[number]) =>
        Date.parse(e.meta.at) >= +fromTime && Date.parse(e.meta.at) <= +toTime;
      expect(await seqs({ fromTime, toTime, types: ['player.moved'] })).toEqual(
        expected((e) => inTime(e) && e.type === 'player.moved'),
      );
      expect(await countEvents(test.db, 'c3', { fromTime, toTime })).toBe(expected(inTime).length);
    });

    it('finds the last seq recorded at or before an instant, though times need not rise with seqs', async () => {
      // Every seventh event has an instant before those of the seqs around it.
      for (const offset of [-200_000, -50_000, 500_000, 1_000_000, 1_795_000, 2_000_000, 2_600_000]) {
        const at = new Date(Date.UTC(2026, 10, 25, 13) + offset);
        const last = Math.max(0, ...expected((e) => Date.parse(e.meta.at) <= +at));
        expect(await lastArchivedSeqAt(test.db, 'c3', at)).toBe(last);
      }
      expect(await lastArchivedSeqAt(test.db, 'c3', new Date(Date.UTC(2026, 10, 25, 13) + 1_000_000))).toBe(
        2_099,
      );
      expect(await lastArchivedSeqAt(test.db, 'c3', new Date('2020-01-01T00:00:00Z'))).toBe(0);
    });

    it('ends a chunk early once its JSON is about a megabyte', async () => {
      const big = Array.from({ length: 30 }, (_, i) =>
        event(10_000 + i, 'world', 'world.flag.set', { key: 'lore', value: 'x'.repeat(100_000) }, 1 + i),
      );
      await test.db.transaction().execute((trx) => archiveEvents(trx, 'c3', big));
      const counts = await test.db
        .selectFrom('event_chunks')
        .select('event_count')
        .where('campaign_id', '=', 'c3')
        .where('first_seq', '>=', 10_000)
        .orderBy('first_seq')
        .execute();
      expect(counts.map((c) => c.event_count)).toEqual([11, 11, 8]);
      expect(await seqs({ fromSeq: 10_000 })).toEqual(big.map((e) => e.seq));
    });
  });

  it('finds events by time whatever form their meta.at took', async () => {
    const offset = {
      ...event(50, 'world', 'world.flag.set', {}, 2),
      meta: { sessionId: 's1', batchId: 'b', at: '2026-11-25T14:00:00+01:00' },
    };
    await test.db.transaction().execute((trx) => archiveEvents(trx, 'c1', [offset]));
    const chunk = await test.db
      .selectFrom('event_chunks')
      .select(['first_at', 'last_at'])
      .where('campaign_id', '=', 'c1')
      .where('first_seq', '=', 50)
      .executeTakeFirstOrThrow();
    expect(chunk).toEqual({
      first_at: new Date('2026-11-25T13:00:00Z'),
      last_at: new Date('2026-11-25T13:00:00Z'),
    });
    const at = new Date('2026-11-25T13:00:00Z');
    expect((await readEvents(test.db, 'c1', { fromTime: at, toTime: at })).map((e) => e.seq)).toEqual([50]);
    expect(await lastArchivedSeqAt(test.db, 'c1', at)).toBe(50);
  });

  it('writes a batch of several megabytes in more than one statement, keeping every event', async () => {
    const big = Array.from({ length: 60 }, (_, i) =>
      event(20_000 + i, `npc:n${i}`, 'world.flag.set', { key: 'lore', value: 'y'.repeat(100_000) }, 1),
    );
    await test.db.transaction().execute((trx) => archiveEvents(trx, 'c4', big));
    const chunks = await test.db
      .selectFrom('event_chunks')
      .select(['event_count', 'entity_ids'])
      .where('campaign_id', '=', 'c4')
      .orderBy('first_seq')
      .execute();
    expect(chunks.map((c) => c.event_count)).toEqual([11, 11, 11, 11, 11, 5]);
    expect(chunks.flatMap((c) => c.entity_ids)).toEqual(big.map((e) => e.entityId));
    const read = await readEvents(test.db, 'c4', { fromSeq: 20_000, limit: 100 });
    expect(read.map(({ recordedAt: _, ...archived }) => archived)).toEqual(big);
  });

  it('archives a batch larger than one chunk', async () => {
    const many = Array.from({ length: 12_000 }, (_, i) =>
      event(100 + i, `player:p${i % 50}`, 'player.xp.gained', { amount: 1 }, 1 + Math.floor(i / 50)),
    );
    expect(await test.db.transaction().execute((trx) => archiveEvents(trx, 'c2', many))).toBe(12_000);
    const page = await readEvents(test.db, 'c2', { fromSeq: 100, limit: 12_000 });
    expect(page.map((e) => e.seq)).toEqual(many.map((e) => e.seq));
  });

  // A pending list would take them cheaply until it passed 4 MB, and the insert that passed it would
  // merge all of it, inside a flush (migrations 0011 and 0012).
  it('puts a range’s entity ids straight into the entity index, leaving nothing pending', async () => {
    const distinct = Array.from({ length: 2_000 }, (_, i) =>
      event(1 + i, `player:d${i}`, 'player.gold.changed', { delta: 1 }, 1),
    );
    await test.db.transaction().execute(async (trx) => {
      await archiveEvents(trx, 'c5', distinct);
      await indexEntityRange(trx, 'c5', 2_000);
    });
    const { rows } = await sql<{ pages: string }>`
      select gin_clean_pending_list('event_entity_ranges_entity_idx'::regclass) as pages`.execute(test.db);
    expect(Number(rows[0]?.pages)).toBe(0);
    const history = await readEvents(test.db, 'c5', { entityId: 'player:d1234' });
    expect(history.map((e) => e.seq)).toEqual([1_235]);
  });

  it("compresses the archive's events and entity ids with lz4 where the server has it (migrations 0007, 0013)", async () => {
    const { rows: server } = await sql<{ lz4: boolean }>`
      select 'lz4' = any(enumvals) as lz4 from pg_settings where name = 'default_toast_compression'`.execute(
      test.db,
    );
    const expected = server[0]?.lz4 ? 'lz4' : 'pglz';
    const distinct = Array.from({ length: 2_000 }, (_, i) =>
      event(1 + i, `player:z${i}`, 'player.gold.changed', { delta: 1 }, 1),
    );
    await test.db.transaction().execute(async (trx) => {
      await archiveEvents(trx, 'c-lz4', distinct);
      await indexEntityRange(trx, 'c-lz4', 2_000);
    });
    const { rows } = await sql<{ events: string; chunkIds: string; rangeIds: string }>`
      select pg_column_compression(c.events) as events, pg_column_compression(c.entity_ids) as "chunkIds",
             pg_column_compression(r.entity_ids) as "rangeIds"
      from event_chunks c join event_entity_ranges r using (campaign_id)
      where campaign_id = 'c-lz4'`.execute(test.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row).toEqual({ events: expected, chunkIds: expected, rangeIds: expected });
    expect((await readEvents(test.db, 'c-lz4', { entityId: 'player:z1999' })).map((e) => e.seq)).toEqual([
      2_000,
    ]);
  });
});
