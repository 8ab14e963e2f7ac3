import { findSnapshotAtOrBefore, listSnapshots } from '@lorekeeper/pg-store';
import { waitUntil } from '@lorekeeper/testing';
import type { System } from './test/system';
import { startSystem } from './test/system';
import { LARGE_CAMPAIGN_ENTITIES, insertLargeCampaign } from './test/large-campaign';

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
    // No snapshot yet, so one is due after 20 events; the paced copy takes a dozen chunks.
    const campaignId = await insertLargeCampaign(h.db.db, 'killed-copy');
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
    expect(left?.rows).toBeLessThan(LARGE_CAMPAIGN_ENTITIES);
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
    expect(taken).toMatchObject({ name: `auto-${taken?.seq}`, entityCount: LARGE_CAMPAIGN_ENTITIES });
    expect(await headers(campaignId)).toEqual([
      { id: taken?.id, name: taken?.name, complete: true, rows: LARGE_CAMPAIGN_ENTITIES },
    ]);
    second.process.kill('SIGTERM');
    await second.exited;
  });
});
