import { readCheckpoint, readEvents } from '@lorekeeper/pg-store';
import { verifyCampaign } from '@lorekeeper/replay';
import { reportFigures, waitUntil } from '@lorekeeper/testing';
import type { SentBatch } from '../test/faults-load';
import { SessionHolder, markerCounts, markerKey, offeredRate, sleep, startLoad } from '../test/faults-load';
import type { FaultRig } from '../test/faults-rig';
import { AOF_EVERYSEC, faultWorld, startFaultRig } from '../test/faults-rig';

/**
 * DESIGN.md, failure model: "Redis restarted with AOF (everysec): at most about 1 s of non-major
 * events lost". Session service and worker run as processes on a private Redis with
 * `appendonly yes, appendfsync everysec`; under steady load the Redis is killed with SIGKILL and
 * started again on the same port and directory. Nobody restarts the services.
 */

const TITLE = 'Redis killed and restarted with AOF everysec under load';
const LOOPS = 4;

let rig: FaultRig | undefined;
let stopLoad: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  rig = await startFaultRig({
    label: 'fault-aof',
    redisArgs: AOF_EVERYSEC,
    settings: { AUTOSAVE_INTERVAL_MS: '200', LEASE_MS: '2000' },
  });
}, 60_000);

afterAll(async () => {
  await stopLoad().catch(() => undefined);
  await rig?.close();
}, 60_000);

describe('Redis restarted with AOF everysec', () => {
  it('loses at most about a second of non-major events, no durable major one, and play goes on', async () => {
    const sys = rig!;
    const client = sys.client();
    const world = faultWorld('fault-aof', LOOPS, 40);
    const { campaignId } = world;
    await client.createCampaign(world);
    const players = world.entities.filter((e) => e.kind === 'player').map((e) => e.id);
    const quests = new Map(
      players.map((p, i) => [
        p,
        world.entities
          .filter((e) => e.kind === 'quest')
          .map((e) => e.id)
          .filter((_, q) => q % LOOPS === i),
      ]),
    );
    const session = new SessionHolder(
      client,
      campaignId,
      players,
      (await client.startSession(campaignId, players)).sessionId,
    );
    const load = startLoad(client, { campaignId, players, quests, majorEvery: 8, pauseMs: 8, session });
    stopLoad = load.stop;

    await sleep(4_000);
    const killedAt = Date.now();
    const rate = offeredRate(load.batches, killedAt - 3_000, killedAt);
    await sys.redisServer.kill();
    await sleep(1_000);
    await sys.redisServer.start();
    const restartedAt = Date.now();
    // Play goes on by itself: the loops keep appending (a new session if the service says so), for 5 s
    // and until 25 appends sent after the restart were acknowledged (below: more than 20 after the
    // first), however long the machine takes to reconnect.
    await sleep(5_000);
    await waitUntil(
      async () => load.batches.filter((b) => b.outcome === 'acked' && b.sentAt >= restartedAt).length >= 25,
      30_000,
      'appends acknowledged after the restart',
    );
    await load.stop();

    const batches = load.batches;
    const firstAckAfter = batches
      .filter((b) => b.outcome === 'acked' && b.sentAt >= restartedAt)
      .reduce((min, b) => Math.min(min, b.answeredAt!), Infinity);
    expect(firstAckAfter).toBeLessThan(Infinity);
    const ackedAfter = batches.filter((b) => b.outcome === 'acked' && b.sentAt > firstAckAfter).length;
    expect(ackedAfter).toBeGreaterThan(20);

    // The services reconnected by themselves: both are the processes the test started.
    expect(sys.sessionService.process.exitCode).toBeNull();
    expect(sys.worker.process.exitCode).toBeNull();

    // Everything still live becomes durable; the worker kept working across the restart.
    const saved = await client.save(campaignId, session.current);
    expect(saved.seq).toBeGreaterThan(0);
    expect((await readCheckpoint(sys.db.db, campaignId)).seq).toBe(saved.seq);

    const archive = await readEvents(sys.db.db, campaignId);
    const counts = markerCounts(archive);
    const count = (b: SentBatch) => counts.get(markerKey(b.player, b.marker)) ?? 0;
    const acked = batches.filter((b) => b.outcome === 'acked');
    const lost = acked.filter((b) => count(b) === 0);
    const lostEvents = lost.reduce((sum, b) => sum + b.events, 0);
    const lostMajorDurable = lost.filter((b) => b.quest && b.durable);
    const duplicated = batches.filter((b) => count(b) > 1);
    const majorDurable = acked.filter((b) => b.quest && b.durable);

    // Every persisted event is archived once and Postgres is the fold of its archive.
    expect(new Set(archive.map((e) => e.seq)).size).toBe(archive.length);
    const report = await verifyCampaign(sys.db.db, campaignId);
    expect(report.postgres.mismatches).toEqual([]);
    expect(report.ok).toBe(true);

    const figures = {
      offeredEventsPerSecond: Math.round(rate),
      batchesSent: batches.length,
      eventsSent: batches.reduce((sum, b) => sum + b.events, 0),
      batchesAcked: acked.length,
      eventsAcked: acked.reduce((sum, b) => sum + b.events, 0),
      majorAckedDurable: majorDurable.length,
      majorAckedNotDurable: acked.filter((b) => b.quest && !b.durable).length,
      ackedEventsLost: lostEvents,
      ackedBatchesLost: lost.length,
      durableMajorLost: lostMajorDurable.length,
      batchesDuplicated: duplicated.length,
      unknownOutcome: batches.filter((b) => b.outcome === 'unknown').length,
      refused: batches.filter((b) => b.outcome === 'refused').length,
      sessionRestarts: session.restarts.length,
      redisDownSeconds: (restartedAt - killedAt) / 1_000,
      secondsToFirstAckAfterKill: (firstAckAfter - killedAt) / 1_000,
      archivedEvents: archive.length,
      checkpointSeq: saved.seq,
    };
    reportFigures(TITLE, figures);

    expect(duplicated).toEqual([]);
    expect(lostMajorDurable).toEqual([]);
    for (const b of majorDurable) expect(count(b)).toBe(1);
    expect(majorDurable.length).toBeGreaterThan(5);
    // About one second's worth at the offered rate (everysec), plus one batch per loop in flight.
    expect(lostEvents).toBeLessThanOrEqual(Math.ceil(rate) + LOOPS * 4);
    for (const b of batches.filter((x) => x.outcome !== 'acked')) expect(count(b)).toBeLessThanOrEqual(1);
  }, 120_000);
});
