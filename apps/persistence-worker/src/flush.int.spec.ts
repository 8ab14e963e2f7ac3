import { sql } from 'kysely';
import type { Checkpoint } from '@lorekeeper/pg-store';
import { countEvents, insertCampaign, readCheckpoint, readPosition, readSyncLog } from '@lorekeeper/pg-store';
import type { StreamEvent } from '@lorekeeper/redis-store';
import { createTestDatabase, lockWaiters, type TestDatabase, waitUntil } from '@lorekeeper/testing';
import type { FlushBatch } from './campaign-fold';
import { FencedError, SessionGoneError, archiveAhead, flushCampaign } from './flush';

const goldEvent = (seq: number): StreamEvent => ({
  streamId: `${seq}-0`,
  seq,
  type: 'player.gold.changed',
  entityId: 'player:alice',
  version: seq,
  data: { delta: 1 },
  meta: { sessionId: 's1', batchId: `b${seq}`, at: '2026-11-26T10:00:00.000Z' },
});

function batchOf(from: Checkpoint, count: number): FlushBatch {
  const events = Array.from({ length: count }, (_, i) => goldEvent(from.seq + i + 1));
  const last = events[events.length - 1]!;
  return {
    from,
    to: { seq: last.seq, streamId: last.streamId },
    upserts: [],
    deletes: [],
    events,
    entries: events.length,
    bytes: 0,
  };
}

// One database for the file: campaign c1 for the entity flush, m1 for the major event's.
let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase('flush');
  await test.db.transaction().execute(async (trx) => {
    await insertCampaign(trx, { id: 'c1', name: 'One' });
    await insertCampaign(trx, { id: 'm1', name: 'Major' });
  });
});
afterAll(async () => {
  await test.destroy();
});

// The event archive has no foreign key to campaigns (migration 0006): the flush's checkpoint
// compare-and-set is what keeps an event row from committing without its campaign.
describe('flushCampaign', () => {
  it('archives the events and moves the checkpoint together', async () => {
    const from = await readCheckpoint(test.db, 'c1');
    const result = await flushCampaign(test.db, 'c1', batchOf(from, 3), 'manual');
    expect(result.eventsArchived).toBe(3);
    expect(await countEvents(test.db, 'c1')).toBe(3);
    expect((await readCheckpoint(test.db, 'c1')).seq).toBe(from.seq + 3);
  });

  it('commits no event of a campaign that has no row', async () => {
    const flushing = flushCampaign(test.db, 'ghost', batchOf({ seq: 0, streamId: '0-0' }, 2), 'manual');
    await expect(flushing).rejects.toBeInstanceOf(FencedError);
    expect(await countEvents(test.db, 'ghost')).toBe(0);
  });

  it('commits nothing from a worker whose checkpoint another worker moved first', async () => {
    const from = await readCheckpoint(test.db, 'c1');
    await flushCampaign(test.db, 'c1', batchOf(from, 2), 'manual');
    // The second worker folded from the same checkpoint, further: fenced before it writes anything
    // (not refused by the archive's key, which the worker would take for a failure to retry).
    await expect(flushCampaign(test.db, 'c1', batchOf(from, 4), 'manual')).rejects.toBeInstanceOf(
      FencedError,
    );
    expect(await countEvents(test.db, 'c1')).toBe(from.seq + 2);
    expect((await readCheckpoint(test.db, 'c1')).seq).toBe(from.seq + 2);
  });

  it('commits nothing when the session it folded is gone, asked with the campaign row locked', async () => {
    const from = await readCheckpoint(test.db, 'c1');
    let lockedWhenAsked = false;
    const flushing = flushCampaign(test.db, 'c1', batchOf(from, 2), 'manual', async () => {
      // Another transaction cannot lock the row for share while the flush holds it.
      const probe = await test.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{ id: string }>`
          select id from campaigns where id = 'c1' for share skip locked`.execute(trx);
        return rows.length;
      });
      lockedWhenAsked = probe === 0;
      return false;
    });
    await expect(flushing).rejects.toBeInstanceOf(SessionGoneError);
    expect(lockedWhenAsked).toBe(true);
    expect(await countEvents(test.db, 'c1')).toBe(from.seq);
    expect((await readCheckpoint(test.db, 'c1')).seq).toBe(from.seq);
  });
});

// A major event's flush (docs/architecture.md, "Major events: the archive first"): fenced like any flush.
describe('archiveAhead', () => {
  it('archives and moves the archive position, not the checkpoint; the next flush archives only past it', async () => {
    const from = await readCheckpoint(test.db, 'm1');
    const result = await archiveAhead(test.db, 'm1', batchOf(from, 3));
    expect(result).toMatchObject({ eventsArchived: 3, entitiesWritten: 0 });
    const position = await readPosition(test.db, 'm1');
    expect(position.checkpoint.seq).toBe(from.seq);
    expect(position.archived.seq).toBe(from.seq + 3);
    expect((await readSyncLog(test.db, 'm1'))[0]).toMatchObject({ trigger: 'major', eventsArchived: 3 });

    // The entity flush covers the same three and two more: it archives the two.
    const flushed = await flushCampaign(test.db, 'm1', batchOf(from, 5), 'manual');
    expect(flushed.eventsArchived).toBe(2);
    // Its range of the entity index takes in the major event's chunk as well as its own.
    const ranges = await test.db
      .selectFrom('event_entity_ranges')
      .select(['first_seq', 'last_seq', 'entity_ids'])
      .where('campaign_id', '=', 'm1')
      .execute();
    expect(ranges).toEqual([
      { first_seq: from.seq + 1, last_seq: from.seq + 5, entity_ids: ['player:alice'] },
    ]);
    expect(await countEvents(test.db, 'm1')).toBe(from.seq + 5);
    expect((await readCheckpoint(test.db, 'm1')).seq).toBe(from.seq + 5);
  });

  it('archives nothing for a worker whose checkpoint another worker moved first', async () => {
    const stale = await readCheckpoint(test.db, 'm1');
    await flushCampaign(test.db, 'm1', batchOf(stale, 1), 'manual');
    await expect(archiveAhead(test.db, 'm1', batchOf(stale, 3))).rejects.toBeInstanceOf(FencedError);
    expect(await countEvents(test.db, 'm1')).toBe(stale.seq + 1);
    expect((await readPosition(test.db, 'm1')).archived.seq).toBe(stale.seq + 1);
  });

  it('archives nothing when the session it folded is gone', async () => {
    const from = await readCheckpoint(test.db, 'm1');
    const archiving = archiveAhead(test.db, 'm1', batchOf(from, 2), async () => false);
    await expect(archiving).rejects.toBeInstanceOf(SessionGoneError);
    expect(await countEvents(test.db, 'm1')).toBe(from.seq);
    expect((await readPosition(test.db, 'm1')).archived.seq).toBe(from.seq);
  });

  it('asks Redis about the session while the archive statement runs, not before sending it', async () => {
    const from = await readCheckpoint(test.db, 'm1');
    // True once a statement of this database waits for a lock (the archive's, on sync_log below).
    const statementWaiting = () =>
      waitUntil(async () => (await lockWaiters(test.db)).length > 0, 2_000, 'a statement waiting').then(
        () => true,
        () => false,
      );
    let waitingWhenAsked: boolean | undefined;
    let archiving: Promise<unknown> | undefined;
    await test.db.transaction().execute(async (trx) => {
      // Holds the archive's statement, whose sync-log insert needs a lock this share lock excludes.
      await sql`lock table sync_log in share mode`.execute(trx);
      let asked!: () => void;
      const checked = new Promise<void>((resolve) => (asked = resolve));
      archiving = archiveAhead(test.db, 'm1', batchOf(from, 2), async () => {
        waitingWhenAsked = await statementWaiting();
        asked();
        return true;
      });
      await checked;
    });
    await archiving;
    expect(waitingWhenAsked).toBe(true);
    expect((await readPosition(test.db, 'm1')).archived.seq).toBe(from.seq + 2);
    // The checkpoint catches up, as the next flush on the save cadence does, for the tests after this.
    await flushCampaign(test.db, 'm1', batchOf(from, 2), 'manual');
  });

  it('rolls back when Redis cannot answer, and the same batch commits when it is tried again', async () => {
    const from = await readCheckpoint(test.db, 'm1');
    const unreachable = async (): Promise<boolean> => {
      throw new Error('Redis is unreachable');
    };
    await expect(archiveAhead(test.db, 'm1', batchOf(from, 2), unreachable)).rejects.toThrow(
      'Redis is unreachable',
    );
    expect((await readPosition(test.db, 'm1')).archived.seq).toBe(from.seq);
    await archiveAhead(test.db, 'm1', batchOf(from, 2));
    expect(await countEvents(test.db, 'm1')).toBe(from.seq + 2);
    expect((await readPosition(test.db, 'm1')).archived.seq).toBe(from.seq + 2);
  });
});
