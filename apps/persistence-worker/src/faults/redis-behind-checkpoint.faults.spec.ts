import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entity } from '@lorekeeper/domain';
import { isLorekeeperError } from '@lorekeeper/client';
import { readCheckpoint, readEvents } from '@lorekeeper/pg-store';
import { readHeadSeq } from '@lorekeeper/redis-store';
import { verifyCampaign } from '@lorekeeper/replay';
import { reportFigures } from '@lorekeeper/testing';
import type { SentBatch } from '../test/faults-load';
import { SessionHolder, markerCounts, markerKey, sleep, startLoad } from '../test/faults-load';
import type { FaultRig } from '../test/faults-rig';
import { AOF_EVERYSEC, faultWorld, startFaultRig } from '../test/faults-rig';

/**
 * DESIGN.md, failure model: "if Redis comes back behind the Postgres checkpoint, the campaign is
 * reloaded from Postgres rather than continuing from stale state". The AOF directory is copied at T0;
 * more load follows and a save moves the checkpoint past it; then Redis is killed and started again
 * from the old copy, with the session service and the worker running on.
 */

const TITLE = 'Redis restarted from an AOF older than the Postgres checkpoint';
const LOOPS = 4;

let rig: FaultRig | undefined;
let stopLoad: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  rig = await startFaultRig({
    label: 'fault-behind',
    redisArgs: AOF_EVERYSEC,
    settings: { AUTOSAVE_INTERVAL_MS: '200', LEASE_MS: '2000' },
  });
}, 60_000);

afterAll(async () => {
  await stopLoad().catch(() => undefined);
  await rig?.close();
}, 60_000);

async function durableEntities(sys: FaultRig, campaignId: string): Promise<Map<string, Entity>> {
  const rows = await sys.db.db
    .selectFrom('entities')
    .select(['id', 'kind', 'version', 'state'])
    .where('campaign_id', '=', campaignId)
    .execute();
  return new Map(rows.map((row) => [row.id, row as Entity]));
}

describe('Redis restarted behind the Postgres checkpoint', () => {
  it('reloads the campaign from Postgres and never lets older state overwrite newer', async () => {
    const sys = rig!;
    const client = sys.client();
    const world = faultWorld('fault-behind', LOOPS, 40);
    const { campaignId } = world;
    await client.createCampaign(world);
    const players = world.entities.filter((e) => e.kind === 'player').map((e) => e.id);
    const questIds = world.entities.filter((e) => e.kind === 'quest').map((e) => e.id);
    const quests = new Map(players.map((p, i) => [p, questIds.filter((_, q) => q % LOOPS === i)]));
    const staleSession = (await client.startSession(campaignId, players)).sessionId;
    const session = new SessionHolder(client, campaignId, players, staleSession);
    const record: SentBatch[] = [];
    const run = async (ms: number) => {
      const load = startLoad(client, {
        campaignId,
        players,
        quests,
        majorEvery: 8,
        pauseMs: 8,
        session,
        record,
      });
      stopLoad = load.stop;
      await sleep(ms);
      await load.stop();
    };

    // T0: a copy of the AOF directory (the load paused, so no command is half-written).
    await run(2_000);
    const headAtCopy = await readHeadSeq(sys.redis, campaignId);
    const copy = mkdtempSync(join(tmpdir(), 'lk-redis-t0-'));
    cpSync(sys.redisServer.dir, copy, { recursive: true });

    // More play, made durable: the checkpoint moves past what the copy holds.
    await run(3_000);
    const saved = await client.save(campaignId, staleSession);
    expect(saved.seq).toBeGreaterThan(headAtCopy);
    const before = await durableEntities(sys, campaignId);
    const checkpointBefore = await readCheckpoint(sys.db.db, campaignId);
    expect(checkpointBefore.seq).toBe(saved.seq);

    // Redis comes back from the old copy; the services run on.
    await sys.redisServer.kill();
    sys.redisServer.dir = copy;
    await sys.redisServer.start();
    const restartedAt = Date.now();
    expect(await readHeadSeq(sys.redis, campaignId)).toBe(headAtCopy);

    // The stale session is not continued: the game server is told to start again.
    const probe = await client
      .append(campaignId, staleSession, [
        { type: 'player.gold.changed', entityId: players[0]!, data: { delta: 1_000_000 } },
      ])
      .then(
        (reply) => ({ ok: true as const, seq: reply.seq }),
        (error: unknown) => ({ ok: false as const, code: isLorekeeperError(error) ? error.code : 'THROWN' }),
      );
    expect(probe).toEqual({ ok: false, code: 'SESSION_NOT_FOUND' });

    // A new session starts from the durable state: the newer values, not the copy's.
    const started = await client.startSession(campaignId, players);
    const reloadedAt = Date.now();
    expect(started.sessionId).not.toBe(staleSession);
    expect(started.seq).toBe(checkpointBefore.seq);
    for (const id of [...players, ...questIds]) {
      expect(await client.getEntity(campaignId, id)).toEqual(before.get(id));
    }

    // Postgres was not touched by the stale copy: same rows, same checkpoint, a while later.
    await sleep(1_500);
    expect(await durableEntities(sys, campaignId)).toEqual(before);
    expect(await readCheckpoint(sys.db.db, campaignId)).toEqual(checkpointBefore);

    // Play goes on from there, and the log stays one history.
    session.current = started.sessionId;
    await run(2_000);
    const final = await client.save(campaignId, session.current);
    expect(final.seq).toBeGreaterThan(checkpointBefore.seq);
    const report = await verifyCampaign(sys.db.db, campaignId);
    expect(report.postgres.mismatches).toEqual([]);
    expect(report.ok).toBe(true);

    const archive = await readEvents(sys.db.db, campaignId);
    expect(archive.map((e) => e.seq)).toEqual(archive.map((_, i) => i + 1));
    const counts = markerCounts(archive);
    const count = (b: SentBatch) => counts.get(markerKey(b.player, b.marker)) ?? 0;
    const acked = record.filter((b) => b.outcome === 'acked');
    // Everything acknowledged was made durable by a save before the fault or after: all of it is there.
    const lost = acked.filter((b) => count(b) !== 1);
    expect(lost).toEqual([]);

    reportFigures(TITLE, {
      batchesSent: record.length,
      batchesAcked: acked.length,
      eventsAcked: acked.reduce((sum, b) => sum + b.events, 0),
      redisHeadAtCopy: headAtCopy,
      checkpointBeforeRestart: checkpointBefore.seq,
      redisBehindBy: checkpointBefore.seq - headAtCopy,
      staleAppendCode: probe.ok ? 'accepted' : probe.code,
      entitiesCompared: before.size,
      secondsToReload: (reloadedAt - restartedAt) / 1_000,
      ackedLostOrDuplicated: lost.length,
      finalCheckpoint: final.seq,
      verified: report.ok,
    });
  }, 120_000);
});
