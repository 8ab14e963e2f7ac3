import { createTestDatabase, type TestDatabase } from '@lorekeeper/testing';
import { sql } from 'kysely';
import { migrateDown, migrateToLatest, readEvents } from '../index';

// Migration 0007 moves an archive of rows into chunks, and back on the way down.
describe('the archive migrating between rows and chunks', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('archive_migration');
  });
  afterAll(async () => {
    await test.destroy();
  });

  const rowsOf = async () =>
    (
      await sql<Record<string, unknown>>`select * from events where campaign_id = 'c1' order by seq`.execute(
        test.db,
      )
    ).rows;

  it('keeps every event, exactly, both ways', async () => {
    // Back to the archive of rows: every migration after 0006 undone.
    expect(
      (await migrateDown(test.db, { to: '2026_11_26_0006_event_archive_without_foreign_key' })).error,
    ).toBeUndefined();
    await sql`insert into campaigns (id, name) values ('c1', 'One')`.execute(test.db);
    // 2,500 events with gaps where transient events were, on 40 entities.
    await sql`insert into events (campaign_id, seq, stream_id, type, entity_id, version, data, meta, recorded_at)
              select 'c1', s * 2, (s * 2) || '-0', 'player.xp.gained', 'player:p' || (s % 40), s,
                     jsonb_build_object('amount', s), jsonb_build_object('at', to_char(t at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'sessionId', 's1'), t
              from generate_series(1, 2500) s,
                   lateral (select timestamptz '2026-11-25 12:00:00+00' + s * interval '1 second' as t) at`.execute(
      test.db,
    );
    const before = await rowsOf();
    expect(before).toHaveLength(2_500);

    expect((await migrateToLatest(test.db)).error).toBeUndefined();
    const chunks = await test.db
      .selectFrom('event_chunks')
      .select(['first_seq', 'last_seq', 'event_count'])
      .orderBy('first_seq')
      .execute();
    expect(chunks).toEqual([
      { first_seq: 2, last_seq: 1_000, event_count: 500 },
      { first_seq: 1_002, last_seq: 2_000, event_count: 500 },
      { first_seq: 2_002, last_seq: 3_000, event_count: 500 },
      { first_seq: 3_002, last_seq: 4_000, event_count: 500 },
      { first_seq: 4_002, last_seq: 5_000, event_count: 500 },
    ]);
    expect(await rowsOf()).toEqual(before);
    const read = await readEvents(test.db, 'c1', { entityId: 'player:p7', fromSeq: 1_500, limit: 3 });
    expect(read.map((e) => [e.seq, e.data, e.recordedAt])).toEqual(
      before
        .filter((row) => row['entity_id'] === 'player:p7' && Number(row['seq']) >= 1_500)
        .slice(0, 3)
        .map((row) => [row['seq'], row['data'], row['recorded_at']]),
    );

    // Back to the archive of rows: every migration after 0006 undone.
    expect(
      (await migrateDown(test.db, { to: '2026_11_26_0006_event_archive_without_foreign_key' })).error,
    ).toBeUndefined();
    expect(await rowsOf()).toEqual(before);
    await expect(
      sql`insert into events (campaign_id, seq, stream_id, type, entity_id, version, data, meta, recorded_at)
          select campaign_id, seq, stream_id, type, entity_id, version, data, meta, recorded_at
          from events where seq = 2`.execute(test.db),
    ).rejects.toMatchObject({ code: '23505' });
    expect((await migrateToLatest(test.db)).error).toBeUndefined();
  });
});
