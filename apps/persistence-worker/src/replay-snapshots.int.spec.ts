import { sql } from 'kysely';
import pino from 'pino';
import { loadConfig } from '@lorekeeper/config';
import type { Snapshot } from '@lorekeeper/pg-store';
import { insertCampaign, insertEntities, listSnapshots, loadSnapshotState } from '@lorekeeper/pg-store';
import {
  createTestDatabase,
  lockWaiters,
  tinyWorld,
  waitUntil,
  type TestDatabase,
} from '@lorekeeper/testing';
import type { Entity } from '@lorekeeper/domain';
import type { FlushBatch } from './campaign-fold';
import { flushCampaign } from './flush';
import type { FlushedBatch } from './replay-snapshots';
import { CopySlots, ReplaySnapshots } from './replay-snapshots';
import { createWorkerMetrics } from './ops/metrics';

/** A flush that reached `seq` and wrote nothing: all a copy not yet under way needs to hear. */
const flushedTo = (seq: number): FlushedBatch => ({
  from: { seq: seq - 20, streamId: `1-${seq - 20}` },
  to: { seq, streamId: `1-${seq}` },
  upserts: [],
  deletes: [],
});

// A worker copies at most CopySlots' limit of snapshots at a time across its campaigns: each copy keeps
// a Postgres connection busy for as long as it runs, and the flushes need the rest of the pool.
describe('replay snapshots of several campaigns', () => {
  let test: TestDatabase;

  beforeAll(async () => {
    test = await createTestDatabase('snapshot-slots');
    for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) {
      await test.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id, name: id });
        await insertEntities(trx, id, tinyWorld.entities);
      });
    }
  });
  afterAll(() => test.destroy());

  const waitingOnLocks = async () => (await lockWaiters(test.db)).length;
  const names = async (campaignId: string) =>
    (await listSnapshots(test.db, campaignId)).map((snapshot) => snapshot.name);

  it('copy no more at a time than the slots allow; one refused is taken after a later flush', async () => {
    const deps = {
      config: loadConfig({ ...process.env, DATABASE_URL: test.url, SNAPSHOT_EVERY_EVENTS: '20' }),
      db: test.db,
      logger: pino({ level: 'silent' }),
      metrics: createWorkerMetrics(),
    };
    const slots = new CopySlots(1);
    const first = new ReplaySnapshots(deps, 'c1', slots);
    const second = new ReplaySnapshots(deps, 'c2', slots);

    // Hold every copy at its first insert into snapshot_entities until this transaction ends.
    await test.db.transaction().execute(async (trx) => {
      await sql`lock table snapshot_entities in share mode`.execute(trx);
      first.afterFlush(flushedTo(20));
      await waitUntil(async () => (await waitingOnLocks()) === 1, 10_000, 'the first copy to wait');
      second.afterFlush(flushedTo(20));
      // It finds the slot taken and returns; were it copying, it would wait on the lock as well.
      await Promise.race([second.idle(), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      expect(await waitingOnLocks()).toBe(1);
    });
    await first.idle();
    expect(await names('c1')).toEqual(['auto-0']);
    expect(await names('c2')).toEqual([]);

    // The slot is free again: the second campaign's next flush takes its snapshot.
    second.afterFlush(flushedTo(40));
    await second.idle();
    expect(await names('c2')).toEqual(['auto-0']);
  });

  // A copy beside a catch-up takes Postgres time the backlog needs: it waits until the campaign caught
  // up, or until it is a whole interval overdue.
  it('wait while the campaign catches up a backlog, up to one more interval', async () => {
    const logged: string[] = [];
    const deps = {
      config: loadConfig({ ...process.env, DATABASE_URL: test.url, SNAPSHOT_EVERY_EVENTS: '20' }),
      db: test.db,
      logger: pino({ level: 'info' }, { write: (line: string) => logged.push(JSON.parse(line).msg) }),
      metrics: createWorkerMetrics(),
    };
    const snapshots = new ReplaySnapshots(deps, 'c5');
    /** A flush to `seq` (the checkpoint moved there), then every snapshot of the campaign by name. */
    const after = async (seq: number, behind: boolean) => {
      await test.db
        .updateTable('campaigns')
        .set({ checkpoint_seq: seq, checkpoint_stream_id: `${seq}-0` })
        .where('id', '=', 'c5')
        .execute();
      snapshots.afterFlush(flushedTo(seq), behind);
      await snapshots.idle();
      return names('c5');
    };
    // Due at 20 (20 entities, one every 20 events), but behind.
    expect(await after(20, true)).toEqual([]);
    expect(await after(39, true)).toEqual([]);
    // Told once per wait, so an operator sees why no snapshot was taken.
    expect(logged).toEqual(['replay snapshot due; deferred until the campaign caught up its backlog']);
    // Caught up: taken at once.
    expect(await after(45, false)).toEqual(['auto-45']);
    // Due again at 65; still behind at 84, taken at 85, a whole interval overdue.
    expect(await after(65, true)).toEqual(['auto-45']);
    expect(await after(84, true)).toEqual(['auto-45']);
    expect(await after(85, true)).toEqual(['auto-45', 'auto-85']);
  });

  // The worker's flushes go on while a snapshot is copied, chunk by chunk, outside any long transaction.
  describe('beside the flushes', () => {
    const deps = () => ({
      config: loadConfig({ ...process.env, DATABASE_URL: test.url, SNAPSHOT_EVERY_EVENTS: '1' }),
      db: test.db,
      logger: pino({ level: 'silent' }),
      metrics: createWorkerMetrics(),
    });
    const checkpoints = new Map<string, number>();

    /**
     * A real flush of the campaign that renames one of its entities, with the event that did it
     * archived (a snapshot of what changed finds the entity by it), told to the snapshots after.
     */
    async function flushRename(
      campaignId: string,
      snapshots: ReplaySnapshots,
      entity: Entity,
      from?: number,
    ) {
      const seq = from ?? checkpoints.get(campaignId) ?? 0;
      const renamed = {
        ...entity,
        version: entity.version + seq + 1,
        state: { ...(entity.state as object), name: `n${seq + 1}` },
      };
      const batch: FlushBatch = {
        from: { seq, streamId: seq === 0 ? '0-0' : `1-${seq}` },
        to: { seq: seq + 1, streamId: `1-${seq + 1}` },
        upserts: [renamed],
        deletes: [],
        events: [
          {
            seq: seq + 1,
            streamId: `1-${seq + 1}`,
            type: 'test.renamed',
            entityId: entity.id,
            version: renamed.version,
            data: { name: `n${seq + 1}` },
            meta: { sessionId: 's', batchId: `b${seq + 1}`, at: new Date(0).toISOString() },
          },
        ],
        entries: 1,
        bytes: 0,
      };
      await flushCampaign(test.db, campaignId, batch, 'autosave');
      checkpoints.set(campaignId, seq + 1);
      snapshots.afterFlush(batch);
    }
    /** A snapshot's state, laid over its base's when it has one. */
    const snapshotEntities = async (snapshotId: number) =>
      [...(await loadSnapshotState(test.db, snapshotId)).values()]
        .map(({ id, version, state }) => ({ id, version, state }))
        .sort((a, b) => (a.id < b.id ? -1 : 1));

    it('hold the state at the seq they are named after, though flushes committed between their chunks', async () => {
      const { metrics } = deps();
      const snapshots = new ReplaySnapshots({ ...deps(), metrics }, 'c3', new CopySlots(), {
        chunkRows: 1,
        restRatio: 4,
      });
      // Every entity renamed in turn, four times or more, while its chunks (one entity each) are copied:
      // until two snapshots hold every entity, however long each copy took beside the flushes (a copy
      // under way passes over the flushes during it, so 80 flushes made only one in a CI run).
      const all = tinyWorld.entities;
      const everyEntity = async () =>
        (await listSnapshots(test.db, 'c3')).filter((snapshot) => snapshot.baseId === null).length;
      for (let i = 0; i < all.length * 4 || (await everyEntity()) < 2; i += 1) {
        if (i === all.length * 40) throw new Error(`${i} flushes and still not two full snapshots`);
        await flushRename('c3', snapshots, all[i % all.length] as Entity);
        await new Promise((resolve) => setTimeout(resolve, 3));
      }
      await snapshots.idle();
      // Flush k renamed entity (k - 1) mod 20 to `nk` at version k: the state at any seq, as a fold has it.
      const stateAt = (seq: number) =>
        all
          .map((entity, j) => {
            const k = seq - ((((seq - 1 - j) % all.length) + all.length) % all.length);
            if (k <= 0) return { id: entity.id, version: entity.version, state: entity.state };
            return {
              id: entity.id,
              version: entity.version + k,
              state: { ...(entity.state as object), name: `n${k}` },
            };
          })
          .sort((a, b) => (a.id < b.id ? -1 : 1));
      const taken = await listSnapshots(test.db, 'c3');
      // The first copy began after flush 1; completing later, it had flushes to count.
      expect(taken[0]?.seq).toBeGreaterThan(1);
      for (const snapshot of taken) {
        expect(snapshot.name).toBe(`auto-${snapshot.seq}`);
        expect(await snapshotEntities(snapshot.id)).toEqual(stateAt(snapshot.seq));
      }
      // The campaign had no snapshot, so the first holds every entity; each after it holds what changed
      // since the one before, until those hold as many rows as it does: then every entity again, once as
      // many events as that have passed.
      expect(taken[0]).toMatchObject({ baseId: null, entityCount: all.length });
      let laidOver = 0;
      for (const [i, snapshot] of taken.entries()) {
        if (i === 0) continue;
        const before = taken[i - 1] as Snapshot;
        if (laidOver < all.length) {
          expect(snapshot.baseId).toBe(before.id);
          expect(snapshot.entityCount).toBeLessThanOrEqual(snapshot.seq - before.seq);
          laidOver += snapshot.entityCount;
        } else {
          expect(snapshot).toMatchObject({ baseId: null, entityCount: all.length });
          expect(snapshot.seq - before.seq).toBeGreaterThanOrEqual(all.length);
          laidOver = 0;
        }
      }
      expect(taken.filter((snapshot) => snapshot.baseId === null).length).toBeGreaterThanOrEqual(2);
      // Counted on /metrics: snapshots by what they hold, and their rows beside the flushes'.
      const counted = async (holds: string) =>
        (await metrics.replaySnapshots.get()).values.find(
          (v) => v.labels.holds === holds && v.labels.outcome === 'taken',
        )?.value;
      expect(await counted('every-entity')).toBe(taken.filter((t) => t.baseId === null).length);
      expect(await counted('changes')).toBe(taken.filter((t) => t.baseId !== null).length);
      const rows = (await metrics.rowsWritten.get()).values.find((v) => v.labels.kind === 'snapshot')?.value;
      expect(rows).toBe(taken.reduce((sum, t) => sum + t.entityCount, 0));
    });

    it('are dropped when a flush went uncounted (the campaign left this worker and came back)', async () => {
      const { metrics } = deps();
      const snapshots = new ReplaySnapshots({ ...deps(), metrics }, 'c4', new CopySlots(), {
        chunkRows: 1,
        restRatio: 4,
      });
      const region = tinyWorld.entities.find((e) => e.kind === 'region') as Entity;
      await flushRename('c4', snapshots, region);
      // Another worker's flush, which this one never hears of, then this one's again.
      await flushRename(
        'c4',
        new ReplaySnapshots(
          { ...deps(), config: loadConfig({ ...process.env, SNAPSHOT_EVERY_EVENTS: '0' }) },
          'c4',
        ),
        region,
      );
      await flushRename('c4', snapshots, region);
      await snapshots.idle();
      expect(await listSnapshots(test.db, 'c4')).toEqual([]);
      expect(
        await test.db.selectFrom('snapshots').select('id').where('campaign_id', '=', 'c4').execute(),
      ).toEqual([]);
      expect((await metrics.replaySnapshots.get()).values).toEqual([
        expect.objectContaining({ labels: { holds: 'every-entity', outcome: 'failed' }, value: 1 }),
      ]);
    });
  });
});
