import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Database } from '@lorekeeper/pg-store';
import { readCheckpoint } from '@lorekeeper/pg-store';
import { flushRequestSubject } from '@lorekeeper/protocol';
import { waitUntil } from '@lorekeeper/testing';
import { closedLoop, summarise } from '../stats';
import type { Summary } from '../stats';
import { ask } from './stack';

export interface LoadContext {
  readonly db: Kysely<Database>;
  readonly nats: NatsConnection;
  readonly campaignId: string;
  readonly sessionId: string;
  readonly players: readonly string[];
  /** Events per append. */
  readonly batch: number;
}

/**
 * One append: `batch` gold and xp events on one player (a game server's tick for that player). Gold
 * only ever rises and xp is always valid, so appends in any order apply: the load never stalls on
 * refusals, and the bench never needs the live state.
 */
async function append(context: LoadContext, playerId: string, i: number): Promise<number> {
  const events = Array.from({ length: context.batch }, (_, k) =>
    (i + k) % 2 === 0
      ? { type: 'player.gold.changed', entityId: playerId, data: { delta: 1 + (k % 5) } }
      : { type: 'player.xp.gained', entityId: playerId, data: { amount: 1 + (k % 50) } },
  );
  const reply = await ask(context.nats, `campaign.${context.campaignId}.append`, {
    sessionId: context.sessionId,
    events,
  });
  return Math.max(...(reply.results as { seq: number }[]).map((result) => result.seq));
}

export interface Saturation {
  /** Events per second the session service accepted with 64 appends in flight. */
  readonly appendEventsPerSecond: number;
  /** The same events over the time until the Postgres checkpoint covered the last of them. */
  readonly durableEventsPerSecond: number;
}

/**
 * Saturation: 64 appends in flight for `seconds`, then a save asked for and the wait until the
 * checkpoint covers the last seq. Two figures, because the worker can be the narrower stage: a load
 * at half the append rate would then grow the backlog without bound and the lag with it. Each
 * in-flight slot owns its own players, so no two appends in flight touch one entity (no
 * compare-and-set retries inflate the figure).
 */
export async function saturation(context: LoadContext, seconds: number): Promise<Saturation> {
  const inFlight = 64;
  let head = 0;
  const started = performance.now();
  const run = await closedLoop(seconds, inFlight, async (slot, i) => {
    const owned = context.players.filter((_, index) => index % inFlight === slot);
    head = Math.max(head, await append(context, owned[i % owned.length] as string, i));
    return context.batch;
  });
  const appended = run.eventsPerSecond * ((performance.now() - started) / 1_000);
  const { campaignId } = context;
  await waitUntil(
    async () => {
      context.nats.publish(
        flushRequestSubject(campaignId),
        JSON.stringify({ campaignId, trigger: 'manual' }),
      );
      return (await readCheckpoint(context.db, campaignId)).seq >= head;
    },
    600_000,
    'the worker to make the saturation load durable',
  );
  return {
    appendEventsPerSecond: run.eventsPerSecond,
    durableEventsPerSecond: appended / ((performance.now() - started) / 1_000),
  };
}

export interface LagSample {
  readonly offeredEventsPerSecond: number;
  readonly achievedEventsPerSecond: number;
  /** Milliseconds from an append's reply to the first poll that saw the checkpoint cover its last seq. */
  readonly lagMs: Summary;
  /** Sampled appends still not durable when the wait gave up (counted at the wait's length). */
  readonly unresolved: number;
  /** Every event appended, warm-up and drain included (what the run's CPU is divided by). */
  readonly appendedEvents: number;
  /** CPU seconds per process over the whole run, warm-up and drain included. */
  readonly cpuSeconds?: Record<string, number>;
}

const POLL_MS = 10;
const WARM_UP_MS = 2_000;
const MAX_WAIT_MS = 60_000;

/**
 * Open-loop load at `eventsPerSecond` for `seconds`; every append after a warm-up is a sample. The
 * load keeps going (unsampled) until every sample is durable, so the last ones wait for a flush the
 * way the others did rather than for the autosave timer of an idle campaign.
 */
export async function durableLag(
  context: LoadContext,
  eventsPerSecond: number,
  seconds: number,
): Promise<LagSample> {
  const pending: { seq: number; repliedAt: number }[] = [];
  const lags: number[] = [];
  const started = performance.now();
  let sampledEvents = 0;
  let appendedEvents = 0;
  let failures = 0;
  let stopped = false;
  const load = (async () => {
    const interval = (1_000 * context.batch) / eventsPerSecond;
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; !stopped; i += 1) {
      const due = started + i * interval;
      if (due > performance.now()) await sleep(due - performance.now());
      const playerId = context.players[i % context.players.length] as string;
      const sampled =
        performance.now() - started >= WARM_UP_MS && performance.now() - started < seconds * 1_000;
      const call = append(context, playerId, i).then(
        (seq) => {
          appendedEvents += context.batch;
          if (!sampled) return;
          sampledEvents += context.batch;
          pending.push({ seq, repliedAt: performance.now() });
        },
        () => void (failures += 1),
      );
      inFlight.add(call);
      void call.finally(() => inFlight.delete(call));
    }
    await Promise.all(inFlight);
  })();
  const deadline = started + seconds * 1_000 + MAX_WAIT_MS;
  while (
    performance.now() < started + seconds * 1_000 ||
    (pending.length > 0 && performance.now() < deadline)
  ) {
    await sleep(POLL_MS);
    const checkpoint = (await readCheckpoint(context.db, context.campaignId)).seq;
    const now = performance.now();
    for (let i = pending.length - 1; i >= 0; i -= 1) {
      const sample = pending[i]!;
      if (sample.seq > checkpoint) continue;
      lags.push(now - sample.repliedAt);
      pending.splice(i, 1);
    }
  }
  stopped = true;
  await load;
  if (failures > 0) throw new Error(`${failures} appends failed during the lag measurement`);
  for (const sample of pending) lags.push(performance.now() - sample.repliedAt);
  return {
    offeredEventsPerSecond: eventsPerSecond,
    achievedEventsPerSecond: sampledEvents / (seconds - WARM_UP_MS / 1_000),
    lagMs: summarise(lags),
    unresolved: pending.length,
    appendedEvents,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
