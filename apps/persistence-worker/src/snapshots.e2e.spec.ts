import { generateWorld, tinyWorld, waitUntil } from '@lorekeeper/testing';
import type { WorldDocument } from '@lorekeeper/domain';
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
    version: row.version,
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

  it('are spaced by the world size when that is larger: a snapshot never costs more than a row per event', async () => {
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
    const { campaignId } = await play(world, 'player:p0', 150);
    // 600 events: a snapshot is considered after each flush, so at least two are due.
    await waitUntil(
      async () => (await autoSnapshots(campaignId, 'player:p0')).length >= 2,
      15_000,
      'two snapshots',
    );
    const seqs = (await autoSnapshots(campaignId, 'player:p0')).map((s) => s.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(2);
    seqs.forEach((seq, i) =>
      expect(seq - (i === 0 ? 0 : (seqs[i - 1] as number))).toBeGreaterThanOrEqual(entities),
    );
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
