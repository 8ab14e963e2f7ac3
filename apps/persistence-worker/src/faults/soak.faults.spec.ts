import { readFileSync } from 'node:fs';
import type { CatalogueEvent } from '@lorekeeper/client';
import { campaignKeys } from '@lorekeeper/redis-store';
import { reportFigures } from '@lorekeeper/testing';
import type { Stack } from '../test/stack';
import { PLAYERS, createTinyCampaign, startStack } from '../test/stack';

// A bounded soak at a steady rate: every process's memory and Redis's stay flat, the worker's lag
// stays bounded, and the stream is trimmed behind the checkpoint. SOAK_SECONDS sets the length (CI runs
// the default few minutes; run longer on demand: SOAK_SECONDS=3600 npm run test:faults).

const SECONDS = Number(process.env['SOAK_SECONDS'] ?? 180);
const RATE = Number(process.env['SOAK_RATE'] ?? 400);
const STREAM_KEEP = 1_000;

interface Sample {
  readonly at: number;
  readonly sessionRssMb: number;
  readonly workerRssMb: number;
  readonly redisMb: number;
  /** Idempotency records held (one per append, for the session's life by PROTOCOL.md's contract). */
  readonly idempotencyRecords: number;
  /** What those records take in Redis. */
  readonly idempotencyMb: number;
  readonly streamLength: number;
  readonly lag: number;
}

const rssMb = (pid: number | undefined): number => {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
};
const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
const round = (value: number) => Math.round(value * 10) / 10;

describe(`soak: ${SECONDS} s at ${RATE} events/s`, () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack('faults_soak', {
      AUTOSAVE_INTERVAL_MS: '1000',
      STREAM_KEEP: String(STREAM_KEEP),
      TRANSIENT_TTL_SECONDS: '30',
      LOG_LEVEL: 'info',
    });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it(
    'keeps memory flat, lag bounded and the stream trimmed',
    async () => {
      const { campaignId, sessionId } = await createTinyCampaign(stack, 'soak');
      const keys = campaignKeys(campaignId);
      const samples: Sample[] = [];
      let sent = 0;
      let failed = 0;
      const started = Date.now();
      const sampler = setInterval(() => {
        void Promise.all([
          stack.redis.info('memory'),
          stack.redis.hlen(keys.idempotency),
          stack.redis.call('MEMORY', 'USAGE', keys.idempotency, 'SAMPLES', '0'),
          stack.redis.xlen(keys.events),
          stack.redis.get(keys.seq),
          stack.db.db
            .selectFrom('campaigns')
            .select('checkpoint_seq')
            .where('id', '=', campaignId)
            .executeTakeFirst(),
        ]).then(([info, records, recordBytes, streamLength, head, campaign]) => {
          samples.push({
            at: Date.now() - started,
            sessionRssMb: rssMb(stack.sessionService.process.pid),
            workerRssMb: rssMb(stack.workers[0]?.process.pid),
            redisMb: Number(/used_memory:(\d+)/.exec(info)?.[1] ?? 0) / 1024 / 1024,
            idempotencyRecords: records,
            idempotencyMb: Number(recordBytes ?? 0) / 1024 / 1024,
            streamLength,
            lag: Number(head ?? 0) - Number(campaign?.checkpoint_seq ?? 0),
          });
        });
      }, 2_000);

      // Turns of 4 events (gold, xp, and a dialogue opened and closed: transient entities come and go),
      // paced to RATE over several game-server loops.
      const loops = 8;
      const turnsPerSecondPerLoop = RATE / 4 / loops;
      await Promise.all(
        Array.from({ length: loops }, async (_, loop) => {
          for (let turn = 0; Date.now() - started < SECONDS * 1_000; turn += 1) {
            const due = started + (turn * 1_000) / turnsPerSecondPerLoop;
            if (due > Date.now()) await new Promise((resolve) => setTimeout(resolve, due - Date.now()));
            const player = PLAYERS[(loop + turn) % PLAYERS.length] as string;
            const dialogue = `dialogue:s${loop}t${turn}`;
            const events: CatalogueEvent[] = [
              { type: 'player.gold.changed', entityId: player, data: { delta: 1 } },
              { type: 'player.xp.gained', entityId: player, data: { amount: 1 } },
              {
                type: 'dialogue.started',
                entityId: dialogue,
                data: { npcId: 'npc:goblin', playerId: player },
              },
              { type: 'dialogue.ended', entityId: dialogue, data: {} },
            ];
            try {
              await stack.client.append(campaignId, sessionId, events);
              sent += events.length;
            } catch {
              failed += 1;
            }
          }
        }),
      );
      clearInterval(sampler);
      // PROTOCOL.md keeps every append's idempotency record for the session's life: memory that grows
      // with appends by contract and goes with the session. Judge the rest of Redis without them.
      const lastSample = samples.at(-1);
      const idemBytes = lastSample
        ? Math.round((lastSample.idempotencyMb * 1024 * 1024) / Math.max(1, lastSample.idempotencyRecords))
        : 0;
      await stack.client.endSession(campaignId, sessionId);
      const keysAfterEnd = await stack.redis.dbsize();

      // Compare the second quarter (after warm-up) with the last quarter of the run.
      const quarter = (q: number) =>
        samples.filter((s) => s.at >= (q * SECONDS * 1_000) / 4 && s.at < ((q + 1) * SECONDS * 1_000) / 4);
      const early = quarter(1);
      const late = quarter(3);
      const figure = (pick: (s: Sample) => number) => ({
        early: median(early.map(pick)),
        late: median(late.map(pick)),
      });
      const session = figure((s) => s.sessionRssMb);
      const worker = figure((s) => s.workerRssMb);
      const redis = figure((s) => s.redisMb - s.idempotencyMb);
      const idempotency = figure((s) => s.idempotencyRecords);
      const maxLag = Math.max(...samples.map((s) => s.lag));
      const maxStream = Math.max(...samples.map((s) => s.streamLength));
      reportFigures(`soak at a steady rate`, {
        seconds: SECONDS,
        offeredEventsPerSecond: RATE,
        eventsAcknowledged: sent,
        appendsFailed: failed,
        sessionServiceRssMbEarly: round(session.early),
        sessionServiceRssMbLate: round(session.late),
        workerRssMbEarly: round(worker.early),
        workerRssMbLate: round(worker.late),
        redisMbWithoutIdempotencyEarly: round(redis.early),
        redisMbWithoutIdempotencyLate: round(redis.late),
        idempotencyRecordBytes: idemBytes,
        idempotencyRecordsLate: idempotency.late,
        redisKeysAfterSessionEnd: keysAfterEnd,
        maxLagEvents: maxLag,
        maxStreamLength: maxStream,
      });
      expect(failed).toBe(0);
      expect(sent).toBeGreaterThan(RATE * SECONDS * 0.9);
      // Flat: the late quarter within 25% (plus a little slack for allocator noise) of the early one.
      expect(session.late).toBeLessThan(session.early * 1.25 + 10);
      expect(worker.late).toBeLessThan(worker.early * 1.25 + 10);
      expect(redis.late).toBeLessThan(redis.early * 1.25 + 2);
      expect(idemBytes).toBeGreaterThan(0);
      // Ending the session drops the campaign's Redis keys, idempotency records included.
      expect(keysAfterEnd).toBeLessThan(50);
      // Bounded: the worker autosaves every second, so lag stays within a few seconds of events.
      expect(maxLag).toBeLessThan(RATE * 5);
      // Trimmed: the stream keeps STREAM_KEEP entries behind the checkpoint plus what is not yet durable.
      expect(maxStream).toBeLessThan(STREAM_KEEP + RATE * 5);
    },
    (SECONDS + 120) * 1_000,
  );
});
