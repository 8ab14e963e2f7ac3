import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { DomainEvent, Entity } from '@lorekeeper/domain';
import { fold } from '@lorekeeper/domain';
import { readCheckpoint, readEvents, readSyncLog } from '@lorekeeper/pg-store';
import { ACTIVE_CAMPAIGNS_KEY, campaignKeys, readStreamRange } from '@lorekeeper/redis-store';
import type { PrivatePostgres } from '@lorekeeper/testing';
import { entitiesById, generateWorld, startPrivatePostgres, waitUntil } from '@lorekeeper/testing';
import type { RunningWorker } from './service';
import type { AckedEvent } from './test/game';
import type { System } from './test/system';
import { startSystem } from './test/system';

/**
 * DESIGN.md, failure model: "Postgres down for a while: appends go on; the worker backs off and
 * retries; nothing is trimmed past the checkpoint; lag is reported and recovers". The whole system
 * runs against a PostgreSQL of this file's own, which the test stops hard for 20 s under load.
 */

const OUTAGE_MS = 20_000;

let pg: PrivatePostgres | undefined;
let h: System | undefined;
let worker: RunningWorker;
/** The append loops run while this is true; afterAll stops them even when the test failed. */
let running = false;
let load: Promise<unknown> = Promise.resolve();
/** A campaign id put in the active set during the outage (see the test); removed in afterAll too. */
let newcomer: string | undefined;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  // createTestDatabase makes its database on the server of DATABASE_URL: point it at ours.
  const saved = process.env['DATABASE_URL'];
  process.env['DATABASE_URL'] = pg.url;
  try {
    h = await startSystem('pg-outage', {
      AUTOSAVE_INTERVAL_MS: '200',
      LEASE_MS: '1000',
      // Trim right up to the checkpoint, so "nothing is trimmed past it" is a sharp claim.
      STREAM_KEEP: '0',
    });
  } finally {
    if (saved === undefined) delete process.env['DATABASE_URL'];
    else process.env['DATABASE_URL'] = saved;
  }
  worker = await h.startWorker();
}, 60_000);

afterAll(async () => {
  running = false;
  await load.catch(() => undefined);
  if (newcomer) await h?.redis.srem(ACTIVE_CAMPAIGNS_KEY, newcomer);
  try {
    // Dropping the test database needs the server up, even when the test failed mid-outage.
    await pg?.start();
    await h?.close();
  } finally {
    await pg?.stop();
  }
}, 60_000);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Phase = 'before' | 'outage' | 'after';

interface Reply {
  readonly phase: Phase;
  /** The error reply, or the transport failure (timeout), when there was one. */
  readonly error?: unknown;
}

async function lagOf(campaignId: string): Promise<number | undefined> {
  const { values } = await worker.deps.metrics.lagEvents.get();
  return values.find((v) => v.labels.campaign === campaignId)?.value;
}

async function flushesBy(outcome: 'ok' | 'error'): Promise<number> {
  const { values } = await worker.deps.metrics.flushes.get();
  return values.filter((v) => v.labels.outcome === outcome).reduce((sum, v) => sum + v.value, 0);
}

/** The worker's own /metrics and /health/ready, as Prometheus and an orchestrator see them. */
async function scrape(campaignId: string): Promise<{ lag: number | undefined; ready: number }> {
  const base = `http://127.0.0.1:${worker.httpPort}`;
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`lorekeeper_campaign_lag_events{campaign="${campaignId}"}`));
  const ready = (await fetch(`${base}/health/ready`)).status;
  return { lag: line === undefined ? undefined : Number(line.split(' ').at(-1)), ready };
}

/** The checkpoint as the last flush committed before `time` left it, by the flushes' log. */
async function checkpointCommittedBefore(campaignId: string, time: Date): Promise<number> {
  const flushes = await readSyncLog(h!.db.db, campaignId, 100_000);
  // A flush for a major event moves the archive's position, not the checkpoint.
  const moved = flushes.filter((f) => f.error === null && f.trigger !== 'major' && f.createdAt < time);
  return Math.max(0, ...moved.map((f) => f.toSeq));
}

/** The oldest seq left in the campaign's stream, and how many entries it holds. */
async function streamShape(campaignId: string): Promise<{ first: number | undefined; length: number }> {
  const { redis } = h!;
  const key = campaignKeys(campaignId).events;
  const [first] = await redis.xrange(key, '-', '+', 'COUNT', 1);
  const length = await redis.xlen(key);
  return { first: first ? Number(first[0].split('-')[0]) : undefined, length };
}

describe('PostgreSQL down for a while under load', () => {
  it('keeps appending, backs off, trims nothing past the checkpoint, and catches up exactly', async () => {
    const sys = h!;
    const server = pg!;
    // The system really stands on the private server.
    expect(new URL(sys.db.url).port).toBe(String(server.port));
    const port = await sql<{ port: string }>`select current_setting('port') as port`.execute(sys.db.db);
    expect(port.rows[0]?.port).toBe(String(server.port));

    const world = generateWorld({
      campaignId: 'pg-outage',
      regions: 4,
      players: 12,
      npcs: 4,
      items: 12,
      quests: 4,
      seed: 11,
    });
    const campaignId = await sys.createCampaign(world);
    const players = world.entities.filter((e) => e.kind === 'player').map((e) => e.id);
    // Every player is live in Redis from here on: appends on them never need Postgres.
    const sessionId = await sys.startSession(campaignId, players);

    let phase: Phase = 'before';
    running = true;
    const replies: Reply[] = [];
    const acked: AckedEvent[] = [];
    const LOOPS = 4;
    const loops = Array.from({ length: LOOPS }, async (_, loop) => {
      const mine = players.filter((_, i) => i % LOOPS === loop);
      for (let i = 0; running; i += 1) {
        const events: DomainEvent[] = [0, 1].map((k) => ({
          type: 'player.gold.changed',
          entityId: mine[(i + k) % mine.length]!,
          data: { delta: ((i + k) % 7) + 1 },
        }));
        // Plain requests; a transport failure (no reply) is recorded and retried with the same key.
        const idempotencyKey = randomUUID();
        for (;;) {
          const sentIn = phase;
          try {
            const reply = await sys.request(
              campaignId,
              'append',
              { sessionId, events, idempotencyKey },
              5_000,
            );
            replies.push({ phase: sentIn, error: reply.body.error });
            if (reply.body.error === undefined) {
              events.forEach((event, k) =>
                acked.push({ ...event, seq: reply.body.results[k].seq as number }),
              );
            }
            break;
          } catch (error) {
            replies.push({ phase: sentIn, error: String(error) });
            if (!running) throw error;
            await sleep(50);
          }
        }
        await sleep(20);
      }
    });
    load = Promise.all(loops);

    // Load with a healthy Postgres first: the worker folds and checkpoints as usual.
    await waitUntil(
      async () => (await readCheckpoint(sys.db.db, campaignId)).seq > 0 && acked.length > 100,
      15_000,
      'a first checkpoint under load',
    );
    await sleep(1_000);
    const checkpointBefore = (await readCheckpoint(sys.db.db, campaignId)).seq;

    // Outage: PostgreSQL goes away hard; the load keeps running.
    await server.kill();
    phase = 'outage';
    // A campaign the worker does not hold appears (another worker's, say): taking it over needs
    // Postgres and fails, which must not stop the worker stepping the campaign it owns.
    newcomer = `${campaignId}-newcomer`;
    await sys.redis.sadd(ACTIVE_CAMPAIGNS_KEY, newcomer);
    const outageStarted = Date.now();
    const okFlushesAtStart = await flushesBy('ok');
    const errorFlushesAtStart = await flushesBy('error');
    const lagSamples: number[] = [];
    const firstSeqSamples: (number | undefined)[] = [];
    const lengthSamples: number[] = [];
    const ackedAtOutageStart = acked.length;
    while (Date.now() - outageStarted < OUTAGE_MS) {
      await sleep(500);
      lagSamples.push((await lagOf(campaignId)) ?? 0);
      const shape = await streamShape(campaignId);
      firstSeqSamples.push(shape.first);
      lengthSamples.push(shape.length);
    }
    const scraped = await scrape(campaignId);
    const okFlushesAtEnd = await flushesBy('ok');
    const errorFlushesAtEnd = await flushesBy('error');
    const ackedDuringOutage = acked.length - ackedAtOutageStart;
    const headAtRestart = Math.max(...acked.map((e) => e.seq));

    // The stream as the outage left it: nothing commits while Postgres is down, so nothing is trimmed.
    const stream = await readStreamRange(sys.redis, campaignId, 1, undefined, 1_000_000);
    const restarting = new Date();
    await server.start();
    phase = 'after';
    await sys.redis.srem(ACTIVE_CAMPAIGNS_KEY, newcomer);
    const restartedAt = Date.now();
    // The checkpoint the outage held: the last flush committed before the restart. Not the checkpoint
    // read now, which the worker's first retry may already have moved past the head of the outage
    // (it did on a slow machine, where starting Postgres took longer than the worker's backoff).
    const checkpointAtRestart = await checkpointCommittedBefore(campaignId, restarting);

    await sleep(3_000);
    running = false;
    await load;

    // A save succeeds once the worker's backoff lets it retry (within about a minute).
    let saved: { seq: number } | undefined;
    const saveDeadline = Date.now() + 60_000;
    while (!saved && Date.now() < saveDeadline) {
      try {
        const reply = await sys.request(campaignId, 'save', { sessionId }, 35_000);
        if (reply.body.error === undefined) saved = reply.body as { seq: number };
        else expect(reply.body.error.code).toBe('UNAVAILABLE');
      } catch {
        // No reply in time: ask again.
      }
    }
    const savedAfterMs = Date.now() - restartedAt;
    await waitUntil(async () => (await lagOf(campaignId)) === 0, 5_000, 'the lag metric back at 0');

    process.stderr.write(
      `postgres outage: ${acked.length} events acked (${ackedDuringOutage} during the ${OUTAGE_MS} ms outage); ` +
        `lag during the outage ${lagSamples[0]} -> ${lagSamples.at(-1)} (/metrics: ${scraped.lag}); ` +
        `flush failures ${errorFlushesAtEnd - errorFlushesAtStart}; stream ${lengthSamples[0]} -> ${lengthSamples.at(-1)} entries; ` +
        `checkpoint ${checkpointBefore} before, ${checkpointAtRestart} at restart; saved seq ${saved?.seq} ` +
        `${savedAfterMs} ms after the restart\n`,
    );

    // (1) Appends went on: none got an error reply or went unanswered, during the outage or ever.
    expect(replies.filter((r) => r.phase === 'outage').length).toBeGreaterThan(100);
    expect(ackedDuringOutage).toBeGreaterThan(200);
    expect(replies.filter((r) => r.error !== undefined)).toEqual([]);

    // (2) The worker reported a growing lag, committed nothing while Postgres was down, and backed
    // off (a handful of attempts in 20 s, not a busy loop) ...
    expect(Math.max(...lagSamples)).toBeGreaterThan(0);
    expect(lagSamples.at(-1)!).toBeGreaterThan(lagSamples[0]!);
    expect(scraped.lag).toBeGreaterThan(0);
    expect(scraped.ready).toBe(503);
    expect(okFlushesAtEnd).toBe(okFlushesAtStart);
    const failures = errorFlushesAtEnd - errorFlushesAtStart;
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(failures).toBeLessThanOrEqual(15);
    // ... and nothing was trimmed: the oldest entry stayed, the stream only grew ...
    expect(new Set(firstSeqSamples).size).toBe(1);
    expect(lengthSamples.at(-1)!).toBeGreaterThan(lengthSamples[0]!);
    // ... so every event after the durable checkpoint is still in the stream, without a gap.
    expect(checkpointAtRestart).toBeGreaterThanOrEqual(checkpointBefore);
    expect(checkpointAtRestart).toBeLessThan(headAtRestart);
    const seqs = stream.map((e) => e.seq);
    expect(seqs[0]!).toBeLessThanOrEqual(checkpointAtRestart + 1);
    const afterCheckpoint = seqs.filter((seq) => seq > checkpointAtRestart);
    expect(afterCheckpoint).toEqual(afterCheckpoint.map((_, i) => checkpointAtRestart + 1 + i));
    expect(afterCheckpoint.at(-1)).toBeGreaterThanOrEqual(headAtRestart);

    // (3) After recovery the save made everything durable: Postgres is the fold of every
    // acknowledged event, and the archive holds each of them exactly once.
    expect(saved).toBeDefined();
    acked.sort((a, b) => a.seq - b.seq);
    expect(acked.map((e) => e.seq)).toEqual(acked.map((_, i) => i + 1));
    expect(saved!.seq).toBe(acked.length);
    const rows = await sys.db.db
      .selectFrom('entities')
      .select(['id', 'kind', 'version', 'state'])
      .where('campaign_id', '=', campaignId)
      .execute();
    expect(new Map(rows.map((row) => [row.id, row as Entity]))).toEqual(fold(entitiesById(world), acked));
    const archived = await readEvents(sys.db.db, campaignId, {});
    expect(archived.map((e) => [e.seq, e.type, e.entityId, e.data])).toEqual(
      acked.map((e) => [e.seq, e.type, e.entityId, e.data]),
    );

    // (4) The lag recovered (waited for above) and stays at 0 with nothing new.
    expect(await lagOf(campaignId)).toBe(0);
  }, 150_000);
});
