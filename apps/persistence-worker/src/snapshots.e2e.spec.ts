import { generateWorld, tinyWorld, waitUntil } from '@lorekeeper/testing';
import type { WorldDocument } from '@lorekeeper/domain';
import { loadSnapshotState } from '@lorekeeper/pg-store';
import type { System } from './test/system';
import { startSystem } from './test/system';
import { LARGE_CAMPAIGN_ENTITIES, insertLargeCampaign } from './test/large-campaign';

let h: System;

beforeAll(async () => {
  // Small numbers so a few hundred events cross several snapshot points and many flushes.
  h = await startSystem('snapshots', { SNAPSHOT_EVERY_EVENTS: '20', BACKLOG_EVENTS: '7', LEASE_MS: '3000' });
  await h.startWorker();
});
afterAll(() => h.close());

interface AutoSnapshot {
  readonly seq: number;
  readonly name: string;
  readonly gold: number;
  readonly version: number;
}

/** The worker's snapshots of a campaign, with the player's state as each recorded it. */
async function autoSnapshots(campaignId: string, playerId: string): Promise<AutoSnapshot[]> {
  const rows = await h.db.db
    .selectFrom('snapshots')
    .innerJoin('snapshot_entities', 'snapshot_entities.snapshot_id', 'snapshots.id')
    .select(['snapshots.seq', 'snapshots.name', 'snapshot_entities.version', 'snapshot_entities.state'])
    .where('snapshots.campaign_id', '=', campaignId)
    .where('snapshots.name', 'like', 'auto-%')
    .where('snapshot_entities.id', '=', playerId)
    .orderBy('snapshots.seq')
    .execute();
  return rows.map((row) => ({
    seq: Number(row.seq),
    name: row.name,
    version: row.version as number,
    gold: (row.state as { gold: number }).gold,
  }));
}

/**
 * `appends` times 4 one-gold events for the player, with a save after every 5 appends (20 events):
 * each save is a flush after which a snapshot is considered, however fast or slow the worker reads.
 * Returns the gold the player started with.
 */
async function play(
  world: WorldDocument,
  playerId: string,
  appends: number,
): Promise<{ campaignId: string; startGold: number }> {
  const campaignId = await h.createCampaign(world);
  const sessionId = await h.startSession(campaignId, [playerId]);
  const startGold = (world.entities.find((e) => e.id === playerId)?.state as { gold: number }).gold;
  for (let i = 1; i <= appends; i += 1) {
    const reply = await h.request(campaignId, 'append', {
      sessionId,
      events: Array.from({ length: 4 }, () => ({
        type: 'player.gold.changed',
        entityId: playerId,
        data: { delta: 1 },
      })),
    });
    expect(reply.body.error).toBeUndefined();
    if (i % 5 === 0 || i === appends) {
      expect((await h.request(campaignId, 'save', { sessionId }, 30_000)).body.seq).toBe(i * 4);
    }
  }
  return { campaignId, startGold };
}

describe('replay snapshots taken by the worker', () => {
  it('are taken every SNAPSHOT_EVERY_EVENTS events, each holding the state at its own seq', async () => {
    const { campaignId, startGold } = await play(tinyWorld, 'player:alice', 60);
    await waitUntil(
      async () => (await autoSnapshots(campaignId, 'player:alice')).length >= 3,
      10_000,
      'three snapshots',
    );
    const snapshots = await autoSnapshots(campaignId, 'player:alice');
    expect(snapshots.length).toBeGreaterThanOrEqual(3);
    for (const [i, snapshot] of snapshots.entries()) {
      // Taken beside the flushes, yet exactly the durable state at the seq it names.
      expect(snapshot).toEqual({
        seq: snapshot.seq,
        name: `auto-${snapshot.seq}`,
        version: snapshot.seq,
        gold: startGold + snapshot.seq,
      });
      const previous = i === 0 ? 0 : (snapshots[i - 1] as AutoSnapshot).seq;
      expect(snapshot.seq - previous).toBeGreaterThanOrEqual(20);
    }
  });

  it('hold only what changed since the one before, so none writes more rows than events since it', async () => {
    const world = generateWorld({
      campaignId: 'spaced',
      regions: 4,
      players: 10,
      npcs: 20,
      items: 30,
      quests: 8,
      seed: 5,
    });
    const entities = world.entities.length;
    expect(entities).toBeGreaterThan(60);
    const { campaignId, startGold } = await play(world, 'player:p0', 150);
    // 600 events, all on the player: a snapshot is considered after each flush, so many are due.
    await waitUntil(
      async () => (await autoSnapshots(campaignId, 'player:p0')).length >= 5,
      15_000,
      'five snapshots',
    );
    const headers = await h.db.db
      .selectFrom('snapshots')
      .select(['id', 'name', 'seq', 'entity_count', 'base_id'])
      .where('campaign_id', '=', campaignId)
      .where('complete', '=', true)
      .orderBy('seq')
      .execute();
    // The created world holds every entity; each snapshot after it only the player, laid over the last.
    expect(headers[0]).toMatchObject({ name: 'created', seq: 0, entity_count: entities, base_id: null });
    for (const [i, header] of headers.entries()) {
      if (i === 0) continue;
      const before = headers[i - 1] as (typeof headers)[number];
      expect(header).toMatchObject({ name: `auto-${header.seq}`, entity_count: 1, base_id: before.id });
      expect(header.seq - before.seq).toBeGreaterThanOrEqual(20);
    }
    const last = headers[headers.length - 1] as (typeof headers)[number];
    const state = await loadSnapshotState(h.db.db, last.id);
    expect(state.size).toBe(entities);
    expect(state.get('player:p0')?.state).toMatchObject({ gold: startGold + last.seq });
  });

  it('finish a copy under way when the session ends, instead of throwing it away', async () => {
    // No snapshot yet, so one is due after the first 20 events; its paced copy of 60,000 entities takes
    // far longer than ending the session does.
    const campaignId = await insertLargeCampaign(h.db.db, 'long-copy');
    const sessionId = await h.startSession(campaignId, ['player:p0']);
    const gold = Array.from({ length: 20 }, () => ({
      type: 'player.gold.changed',
      entityId: 'player:p0',
      data: { delta: 1 },
    }));
    expect((await h.request(campaignId, 'append', { sessionId, events: gold })).body.error).toBeUndefined();
    expect((await h.request(campaignId, 'save', { sessionId }, 30_000)).body.seq).toBe(20);
    expect((await h.request(campaignId, 'session.end', { sessionId }, 30_000)).body.seq).toBe(20);

    const snapshot = () =>
      h.db.db
        .selectFrom('snapshots')
        .select(['name', 'entity_count'])
        .where('campaign_id', '=', campaignId)
        .executeTakeFirst();
    await waitUntil(
      async () => (await snapshot())?.entity_count === LARGE_CAMPAIGN_ENTITIES,
      30_000,
      'the snapshot',
    );
    expect(await snapshot()).toEqual({ name: 'auto-20', entity_count: LARGE_CAMPAIGN_ENTITIES });
    const copied = await h.db.db
      .selectFrom('snapshot_entities')
      .innerJoin('snapshots', 'snapshots.id', 'snapshot_entities.snapshot_id')
      .select((eb) => eb.fn.countAll<string>().as('rows'))
      .where('snapshots.campaign_id', '=', campaignId)
      .executeTakeFirstOrThrow();
    expect(Number(copied.rows)).toBe(LARGE_CAMPAIGN_ENTITIES);
  });
});
