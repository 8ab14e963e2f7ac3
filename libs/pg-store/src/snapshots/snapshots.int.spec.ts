import type { Entity } from '@lorekeeper/domain';
import type { Snapshot } from '../index';
import {
  advanceCheckpoint,
  archiveEvents,
  beginSnapshotCopy,
  completeSnapshotCopy,
  copyEntitiesPaced,
  createSnapshot,
  deleteEntities,
  dropSnapshot,
  entitiesArchivedAfter,
  findSnapshotAtOrBefore,
  findSnapshotEntity,
  insertCampaign,
  insertEntities,
  listSnapshots,
  loadSnapshotState,
  snapshotChain,
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

  describe('copied beside flushes', () => {
    const ids = Array.from({ length: 40 }, (_, i) => `r${String(i).padStart(2, '0')}`);
    let checkpoint = { seq: 0, streamId: '0-0' };

    beforeAll(async () => {
      await test.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id: 'c2', name: 'Two' });
        await insertEntities(trx, 'c2', ids.map(region));
      });
    });

    /**
     * One flush: `change` upserts and deletes, the checkpoint moved on by one or, with `archive`, by
     * an event archived for each entity it wrote. Returns what it wrote.
     */
    async function flush(upserts: Entity[], deletes: string[] = [], archive = false) {
      const from = checkpoint;
      const events = archive ? upserts.length + deletes.length : 1;
      const to = { seq: from.seq + events, streamId: `1-${from.seq + events}` };
      await test.db.transaction().execute(async (trx) => {
        expect(await advanceCheckpoint(trx, 'c2', from, to)).toBe(true);
        await upsertEntities(trx, 'c2', upserts);
        await deleteEntities(trx, 'c2', deletes);
        if (!archive) return;
        const written = [...upserts.map((e) => e.id), ...deletes];
        await archiveEvents(
          trx,
          'c2',
          written.map((entityId, i) => ({
            seq: from.seq + 1 + i,
            streamId: `1-${from.seq + 1 + i}`,
            type: 'test.changed',
            entityId,
            version: 1,
            data: {},
            meta: { sessionId: 's', batchId: `b${to.seq}`, at: new Date(0).toISOString() },
          })),
        );
      });
      checkpoint = to;
      return [...upserts.map((e) => e.id), ...deletes];
    }
    const stateOf = async (snapshotId: number) =>
      test.db
        .selectFrom('snapshot_entities')
        .select(['id', 'kind', 'version', 'state'])
        .where('snapshot_id', '=', snapshotId)
        .orderBy('id')
        .execute();
    const current = async () =>
      test.db
        .selectFrom('entities')
        .select(['id', 'kind', 'version', 'state'])
        .where('campaign_id', '=', 'c2')
        .orderBy('id')
        .execute();

    it('hold exactly the state at the checkpoint they complete at, whatever the flushes did between chunks', async () => {
      const changes = { ids: new Set<string>(), throughSeq: checkpoint.seq };
      const snapshotId = await beginSnapshotCopy(test.db, 'c2');
      // A chunk per entity with a rest between each: the flushes land between chunks, before and after
      // the entities they change were copied, and create entities on both sides of the copy's position.
      const copying = copyEntitiesPaced(test.db, 'c2', snapshotId, { chunkRows: 1, restRatio: 2 });
      for (let round = 1; round <= 20; round += 1) {
        const changed = ids[(round * 7) % ids.length] as string;
        const written = await flush(
          [
            { ...region(changed), version: round, state: { name: `${changed}!${round}`, neighbors: [] } },
            region(round % 2 === 0 ? `a${round}` : `z${round}`),
          ],
          round % 5 === 0 ? [ids[round] as string, `z${round - 4}`] : [],
        );
        written.forEach((id) => changes.ids.add(id));
        changes.throughSeq = checkpoint.seq;
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      const copied = await copying;

      // A flush not yet counted: the copy waits for it, unchanged and unseen.
      const uncounted = await flush([
        { ...region('r01'), version: 99, state: { name: 'late', neighbors: [] } },
      ]);
      const name = (seq: number) => `auto-${seq}`;
      expect(await completeSnapshotCopy(test.db, 'c2', snapshotId, copied, changes, name)).toBeUndefined();
      expect(await listSnapshots(test.db, 'c2')).toEqual([]);
      expect(await findSnapshotAtOrBefore(test.db, 'c2', checkpoint.seq)).toBeUndefined();

      uncounted.forEach((id) => changes.ids.add(id));
      changes.throughSeq = checkpoint.seq;
      const snapshot = await completeSnapshotCopy(test.db, 'c2', snapshotId, copied, changes, name);
      const now = await current();
      expect(snapshot).toMatchObject({ name: 'auto-21', seq: 21, entityCount: now.length });
      expect(await stateOf(snapshotId)).toEqual(now);
      expect(await listSnapshots(test.db, 'c2')).toEqual([snapshot]);
    });

    it('of what changed since a base, laid over it, hold the state they complete at, removals included', async () => {
      const base = (await findSnapshotAtOrBefore(test.db, 'c2', checkpoint.seq)) as Snapshot;
      expect(base).toMatchObject({ seq: checkpoint.seq, baseId: null });
      const changed = (id: string, name: string): Entity => ({
        ...region(id),
        version: 7,
        state: { name, neighbors: [] },
      });
      // Archived after the base, before the copy: a change, a removal, a new entity.
      await flush([changed('r03', 'three'), region('n1')], ['region:r04'], true);
      const changes = { ids: new Set<string>(), throughSeq: checkpoint.seq };
      const snapshotId = await beginSnapshotCopy(test.db, 'c2', base.id);
      const only = await entitiesArchivedAfter(test.db, 'c2', base.seq);
      expect(only).toEqual(['n1', 'r03', 'r04'].map((id) => `region:${id}`));
      const copying = copyEntitiesPaced(test.db, 'c2', snapshotId, { chunkRows: 1, restRatio: 2 }, only);
      // While it copies: another change, the new entity removed again, one more created.
      (await flush([changed('r05', 'five'), region('n2')], ['region:n1'], true)).forEach((id) =>
        changes.ids.add(id),
      );
      changes.throughSeq = checkpoint.seq;
      const copied = await copying;
      const delta = await completeSnapshotCopy(
        test.db,
        'c2',
        snapshotId,
        copied,
        changes,
        (seq) => `auto-${seq}`,
      );

      // One row per entity changed or removed since the base, nothing for the rest.
      expect(delta).toMatchObject({ seq: checkpoint.seq, baseId: base.id, entityCount: 5 });
      expect((await stateOf(snapshotId)).map((row) => [row.id, row.version])).toEqual([
        ['region:n1', null],
        ['region:n2', 0],
        ['region:r03', 7],
        ['region:r04', null],
        ['region:r05', 7],
      ]);
      expect(await snapshotChain(test.db, snapshotId)).toEqual([
        { id: base.id, seq: base.seq, rows: base.entityCount, baseId: null },
        { id: snapshotId, seq: checkpoint.seq, rows: 5, baseId: base.id },
      ]);
      const progress: [number, number][] = [];
      const loaded = await loadSnapshotState(test.db, snapshotId, (read, total) =>
        progress.push([read, total]),
      );
      const state = [...loaded.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
      expect(state).toEqual(await current());
      // A page of each snapshot of the chain, counted against the chain's rows in all.
      const total = base.entityCount + 5;
      expect(progress).toEqual([
        [base.entityCount, total],
        [total, total],
      ]);
      expect(await findSnapshotEntity(test.db, snapshotId, 'region:r03')).toEqual(changed('r03', 'three'));
      expect(await findSnapshotEntity(test.db, snapshotId, 'region:r04')).toBeUndefined();
      expect(await findSnapshotEntity(test.db, snapshotId, 'region:r10')).toMatchObject({ id: 'region:r10' });
      expect(await findSnapshotEntity(test.db, base.id, 'region:r04')).toMatchObject({ id: 'region:r04' });
    });

    it('are dropped by the next copy when one never completed, and seen by no reader meanwhile', async () => {
      const abandoned = await beginSnapshotCopy(test.db, 'c2');
      await copyEntitiesPaced(test.db, 'c2', abandoned, { chunkRows: 10, restRatio: 0 });
      expect((await listSnapshots(test.db, 'c2')).map((s) => s.id)).not.toContain(abandoned);
      expect((await findSnapshotAtOrBefore(test.db, 'c2', checkpoint.seq))?.id).not.toBe(abandoned);

      const stopping = new AbortController();
      stopping.abort(new Error('the worker is stopping'));
      const next = await beginSnapshotCopy(test.db, 'c2');
      await expect(
        copyEntitiesPaced(test.db, 'c2', next, { chunkRows: 1, restRatio: 0, signal: stopping.signal }),
      ).rejects.toThrow('the worker is stopping');
      expect(await stateOf(abandoned)).toEqual([]);
      const headers = await test.db
        .selectFrom('snapshots')
        .select('id')
        .where('campaign_id', '=', 'c2')
        .execute();
      expect(headers.map((h) => h.id)).not.toContain(abandoned);

      await dropSnapshot(test.db, next);
      expect(await test.db.selectFrom('snapshots').select('id').where('id', '=', next).execute()).toEqual([]);
    });
  });

  it('refuses a second snapshot of the same name, and a missing campaign', async () => {
    await expect(createSnapshot(test.db, 'c1', 'before the dragon')).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    await expect(createSnapshot(test.db, 'nope', 'x')).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
    expect(await listSnapshots(test.db, 'c1')).toHaveLength(1);
  });
});
