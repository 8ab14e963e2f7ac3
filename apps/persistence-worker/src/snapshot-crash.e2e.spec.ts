import { findSnapshotAtOrBefore, insertCampaign, insertEntities, listSnapshots } from '@lorekeeper/pg-store';
import { generateWorld, uniqueCampaignId, waitUntil } from '@lorekeeper/testing';
import type { System } from './test/system';
import { startSystem } from './test/system';

let h: System;

beforeAll(async () => {
  h = await startSystem('snapshot-crash', { SNAPSHOT_EVERY_EVENTS: '20', LEASE_MS: '3000' });
});
afterAll(() => h.close());

/** The campaign's snapshot headers, complete or not, with the entity rows each holds so far. */
async function headers(campaignId: string) {
  const rows = await h.db.db
    .selectFrom('snapshots')
    .leftJoin('snapshot_entities', 'snapshot_entities.snapshot_id', 'snapshots.id')
    .select((eb) => [
      'snapshots.id',
      'snapshots.name',
      'snapshots.complete',
      eb.fn.count<string>('snapshot_entities.id').as('rows'),
    ])
    .where('snapshots.campaign_id', '=', campaignId)
    .groupBy(['snapshots.id', 'snapshots.name', 'snapshots.complete'])
    .orderBy('snapshots.id')
    .execute();
  return rows.map((row) => ({ ...row, rows: Number(row.rows) }));
}

// A replay snapshot is copied over many transactions (copy-beside-flushes.ts in pg-store): a worker
// killed half-way leaves a header and some of its rows behind, which must never be read as a snapshot.
describe('a worker killed while copying a replay snapshot', () => {
  it('leaves nothing a replay reads, and the next copy clears what it left', async () => {
    // Written straight into Postgres without the snapshot of the created world, so one is due after
    // 20 events; at 60,000 entities the paced copy takes a dozen chunks with rests between.
    const campaignId = uniqueCampaignId('killed-copy');
    const world = generateWorld({
      campaignId,
      regions: 200,
      players: 2_000,
      npcs: 20_000,
      items: 35_000,
      quests: 2_799,
      seed: 9,
    });
    await h.db.db.transaction().execute(async (trx) => {
      await insertCampaign(trx, { id: campaignId, name: world.name });
      await insertEntities(trx, campaignId, world.entities);
    });
    const first = await h.spawnWorker();
    const sessionId = await h.startSession(campaignId, ['player:p0']);
    const gold = Array.from({ length: 20 }, () => ({
      type: 'player.gold.changed',
      entityId: 'player:p0',
      data: { delta: 1 },
    }));
    const saveAfterAppend = async (seq: number) => {
      expect((await h.request(campaignId, 'append', { sessionId, events: gold })).body.error).toBeUndefined();
      expect((await h.request(campaignId, 'save', { sessionId }, 30_000)).body.seq).toBe(seq);
    };
    await saveAfterAppend(20);

    await waitUntil(
      async () => (await headers(campaignId)).some((s) => !s.complete && s.rows > 0),
      20_000,
      'the copy to be under way',
    );
    first.process.kill('SIGKILL');
    await first.exited;
    const [left] = await headers(campaignId);
    expect(left).toMatchObject({ complete: false });
    expect(left?.rows).toBeGreaterThan(0);
    expect(left?.rows).toBeLessThan(60_000);
    expect(await listSnapshots(h.db.db, campaignId)).toEqual([]);
    expect(await findSnapshotAtOrBefore(h.db.db, campaignId, 20)).toBeUndefined();

    // The next worker takes the campaign over once the lease lapses; its first copy drops the leftover.
    const second = await h.spawnWorker();
    await saveAfterAppend(40);
    await waitUntil(
      async () => (await listSnapshots(h.db.db, campaignId)).length === 1,
      30_000,
      'the next snapshot',
    );
    const [taken] = await listSnapshots(h.db.db, campaignId);
    // Taken at the takeover's first flush or at the save's, whichever came due first.
    expect(taken?.seq).toBeGreaterThanOrEqual(20);
    expect(taken).toMatchObject({ name: `auto-${taken?.seq}`, entityCount: 60_000 });
    expect(await headers(campaignId)).toEqual([
      { id: taken?.id, name: taken?.name, complete: true, rows: 60_000 },
    ]);
    second.process.kill('SIGTERM');
    await second.exited;
  });
});
