import { readEvents } from '@lorekeeper/pg-store';
import { campaignKeys, decodeEntry } from '@lorekeeper/redis-store';
import { verifyCampaign } from '@lorekeeper/replay';
import { reportFigures, waitUntil } from '@lorekeeper/testing';
import type { SentBatch } from '../test/faults-load';
import { SessionHolder, markerCounts, markerKey, sleep, startLoad } from '../test/faults-load';
import type { FaultRig } from '../test/faults-rig';
import { faultWorld, startFaultRig } from '../test/faults-rig';

/**
 * DESIGN.md, failure model: "session service killed mid-request: the batch is wholly applied or not
 * at all; a retry with the same idempotency key appends nothing new". Game servers append through
 * the client (idempotent retries: same key, growing timeouts) while the only session service is
 * killed with SIGKILL again and again and started anew.
 */

const TITLE = 'session service killed with SIGKILL under load, clients retrying idempotently';
const LOOPS = 4;
const KILLS = 4;

let rig: FaultRig | undefined;
let stopLoad: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  rig = await startFaultRig({
    label: 'fault-ss-kill',
    redisArgs: [],
    settings: { AUTOSAVE_INTERVAL_MS: '300', LEASE_MS: '2000' },
  });
}, 60_000);

afterAll(async () => {
  await stopLoad().catch(() => undefined);
  await rig?.close();
}, 60_000);

describe('the session service killed mid-request', () => {
  it('applies every acknowledged batch exactly once and never gives a seq twice', async () => {
    const sys = rig!;
    // Short first timeouts, so a request the dead process swallowed is retried soon.
    const client = sys.client({ timeoutMs: 1_000, appendAttempts: 30 });
    const world = faultWorld('fault-ss-kill', LOOPS, 40);
    const { campaignId } = world;
    await client.createCampaign(world);
    const players = world.entities.filter((e) => e.kind === 'player').map((e) => e.id);
    const questIds = world.entities.filter((e) => e.kind === 'quest').map((e) => e.id);
    const quests = new Map(players.map((p, i) => [p, questIds.filter((_, q) => q % LOOPS === i)]));
    const session = new SessionHolder(
      client,
      campaignId,
      players,
      (await client.startSession(campaignId, players)).sessionId,
    );
    const load = startLoad(client, { campaignId, players, quests, majorEvery: 8, pauseMs: 12, session });
    stopLoad = load.stop;

    const recoveries: number[] = [];
    for (let kill = 0; kill < KILLS; kill += 1) {
      await sleep(1_500 + Math.floor(Math.random() * 1_000));
      const killedAt = Date.now();
      sys.sessionService.process.kill('SIGKILL');
      await sys.sessionService.exited;
      sys.sessionService = await sys.spawn('session-service');
      // Play on until the new process acknowledged an append, however slow the machine (a fixed
      // 1.5 s after the restart once judged recovery by whatever fitted in it), and 1.5 s at least.
      const ackedSinceKill = () =>
        load.batches.filter((b) => b.outcome === 'acked' && b.answeredAt! > killedAt);
      await sleep(1_500);
      await waitUntil(
        async () => ackedSinceKill().length > 0,
        30_000,
        'an append acknowledged after the kill',
      );
      const firstAck = ackedSinceKill().reduce((min, b) => Math.min(min, b.answeredAt!), Infinity);
      recoveries.push((firstAck - killedAt) / 1_000);
    }
    await sleep(1_000);
    await load.stop();

    const batches = load.batches;
    const acked = batches.filter((b) => b.outcome === 'acked');
    const saved = await client.save(campaignId, session.current);

    // No seq was given to two acknowledged batches, and every batch got as many seqs as events.
    const seqs = acked.flatMap((b) => b.seqs!);
    const reusedSeqs = seqs.length - new Set(seqs).size;
    const archive = await readEvents(sys.db.db, campaignId);
    const bySeq = new Map(archive.map((e) => [e.seq, e]));
    const archived = markerCounts(archive);
    const streamEntries = await sys.redis.xrange(campaignKeys(campaignId).events, '-', '+');
    const inStream = markerCounts(streamEntries.map(([id, fields]) => decodeEntry(id, fields)));
    const count = (b: SentBatch) => archived.get(markerKey(b.player, b.marker)) ?? 0;
    const lost = acked.filter((b) => count(b) === 0);
    const applied = batches.filter((b) => count(b) > 0);
    const twice = batches.filter(
      (b) => count(b) > 1 || (inStream.get(markerKey(b.player, b.marker)) ?? 0) > 1,
    );
    // The seqs a reply named hold that batch's own events.
    const misnumbered = acked.filter((b) => {
      const first = bySeq.get(b.seqs![0]!);
      return first?.type !== 'player.gold.changed' || (first.data as { delta: number }).delta !== b.marker;
    });
    const report = await verifyCampaign(sys.db.db, campaignId);
    const retried = acked.filter((b) => b.answeredAt! - b.sentAt >= 1_000);

    reportFigures(TITLE, {
      kills: KILLS,
      batchesSent: batches.length,
      eventsSent: batches.reduce((sum, b) => sum + b.events, 0),
      batchesAcked: acked.length,
      majorsAckedDurable: acked.filter((b) => b.quest && b.durable).length,
      // Waited past the first 1 s timeout: sent again with the same key, some of them after the
      // dead process had already committed them.
      batchesRetried: retried.length,
      batchesGivenUp: batches.filter((b) => b.outcome === 'unknown').length,
      givenUpButApplied: batches.filter((b) => b.outcome === 'unknown' && count(b) === 1).length,
      refused: batches.filter((b) => b.outcome === 'refused').length,
      ackedLost: lost.length,
      appliedTwice: twice.length,
      seqsReused: reusedSeqs,
      repliesNamingWrongSeqs: misnumbered.length,
      slowestAckSeconds: Math.max(...acked.map((b) => (b.answeredAt! - b.sentAt) / 1_000)),
      meanSecondsToFirstAckAfterKill:
        Math.round((recoveries.reduce((s, r) => s + r, 0) / recoveries.length) * 1_000) / 1_000,
      archivedEvents: archive.length,
      checkpointSeq: saved.seq,
      verified: report.ok,
    });

    expect(lost).toEqual([]);
    expect(twice).toEqual([]);
    expect(reusedSeqs).toBe(0);
    expect(misnumbered).toEqual([]);
    expect(archive.map((e) => e.seq)).toEqual(archive.map((_, i) => i + 1));
    expect(saved.seq).toBe(archive.length);
    // Every event in the log belongs to exactly one batch a loop sent.
    expect(applied.reduce((sum, b) => sum + b.events, 0)).toBe(archive.length);
    expect(recoveries.every((r) => r < 10)).toBe(true);
    expect(acked.length).toBeGreaterThan(200);
    expect(retried.length).toBeGreaterThan(0);
    expect(report.ok).toBe(true);
  }, 120_000);
});
