import type { Summary } from './stats';
import { summarise } from './stats';
import type { BenchEvent, Workload } from './workload';

/** How a contender answers one request: applied, or refused with a code (counted, not thrown). */
export type Outcome = { readonly ok: true } | { readonly ok: false; readonly code: string };
export type Send = (events: readonly BenchEvent[]) => Promise<Outcome>;

export interface LoadStep {
  /** Offered events per second; Infinity sends as fast as `maxOutstanding` allows (a closed loop). */
  readonly eventsPerSecond: number;
  readonly seconds: number;
  readonly batch: number;
  /** Requests in flight at most; past it the sender waits (the wait counts in latency). */
  readonly maxOutstanding: number;
}

export interface StepResult {
  readonly offered: number;
  /** Events acknowledged as applied within the step's window, per second. */
  readonly achieved: number;
  /** Events applied, including those answered after the window closed. */
  readonly applied: number;
  /**
   * Per request, from when it could be sent: its scheduled time (so a stalled sender cannot hide
   * queueing), or, for a request ordered after others in flight, the moment they were answered. The
   * append latency the targets judge: a request's own time, whatever the ones before it took.
   */
  readonly latencyMs: Summary;
  /**
   * Per request, from its scheduled time even when it had to wait for requests ordered before it (the
   * rest of a turn, or an earlier change to an entity it touches): how late the game saw its action
   * applied. At one event per request every event of a turn waits for the one before.
   */
  readonly fromDueLatencyMs: Summary;
  /** The requests holding a major event (quest.completed), which reply only once it is durable. */
  readonly majorLatencyMs: Summary;
  readonly requests: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly failed: number;
  /** Requests due inside the window that the sender never got to (only when overloaded). */
  readonly unsent: number;
  /** The refused requests' entity ids, for the caller to re-read. */
  readonly refusedEntities: readonly string[];
}

/**
 * Offer `step.eventsPerSecond` in requests of `step.batch` events for `step.seconds`: request i is due
 * at start + i * batch / rate whatever happened to earlier ones (an open loop), and its latency is
 * measured from that due time. A request carrying the rest of a turn starts only after the request
 * with the turn's earlier events is answered, as a game server would send them; for an ordered
 * workload, a request also waits for the requests in flight that change an entity its events touch
 * (write or read), as a game server orders a player's actions, and when
 * the workload finds no player without an action in flight, the sender waits for a reply. Waits for
 * every request sent to be answered before returning, so steps never overlap. Latency is summarised
 * twice: from when each request could be sent, and from its due time (the ordering wait included).
 */
export async function runStep(step: LoadStep, workload: Workload, send: Send): Promise<StepResult> {
  const interval = (1_000 * step.batch) / step.eventsPerSecond;
  const closed = !(interval > 0);
  const latencies: number[] = [];
  const fromDue: number[] = [];
  const majorLatencies: number[] = [];
  const refused: Record<string, number> = {};
  const refusedEntities: string[] = [];
  let acked = 0;
  let applied = 0;
  let failed = 0;
  let requests = 0;
  let outstanding = 0;
  let slotFreed: (() => void) | undefined;
  let lastTurn = -1;
  let previous: Promise<unknown> = Promise.resolve();
  const writers = new Map<string, Promise<unknown>>();
  const busy = (entityId: string) => writers.has(entityId);
  const start = performance.now();
  const windowEnd = start + step.seconds * 1_000;

  const dispatch = async (
    events: readonly BenchEvent[],
    due: number,
    after: Promise<unknown> | undefined,
  ) => {
    try {
      let ready = due;
      if (after) {
        await after;
        ready = Math.max(due, performance.now());
      }
      const outcome = await send(events);
      const done = performance.now();
      latencies.push(done - ready);
      fromDue.push(done - due);
      if (events.some((e) => e.major)) majorLatencies.push(done - ready);
      if (outcome.ok) {
        applied += events.length;
        if (done <= windowEnd) acked += events.length;
      } else {
        refused[outcome.code] = (refused[outcome.code] ?? 0) + 1;
        refusedEntities.push(...events.map((e) => e.entityId));
      }
    } catch {
      failed += 1;
    } finally {
      outstanding -= 1;
      slotFreed?.();
    }
  };

  let unsent = 0;
  for (let i = 0; ; i += 1) {
    const due = closed ? performance.now() : start + i * interval;
    if (due >= windowEnd) break;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    while (outstanding >= step.maxOutstanding) await new Promise<void>((resolve) => (slotFreed = resolve));
    if (performance.now() >= windowEnd) {
      // Overloaded: the requests still due in the window were never sent; count them, and give the
      // latency summary their wait so far as a lower bound.
      for (let j = i; !closed && start + j * interval < windowEnd; j += 1) {
        latencies.push(windowEnd - (start + j * interval));
        fromDue.push(windowEnd - (start + j * interval));
        unsent += 1;
      }
      break;
    }
    const events: BenchEvent[] = [];
    for (let idle = 0; events.length < step.batch;) {
      const event = workload.next(busy);
      if (event) events.push(event);
      else if (outstanding > 0) await new Promise<void>((resolve) => (slotFreed = resolve));
      // A reply's entities are released a few microtasks after its slot: let them go first.
      else if (idle++ < 3) await new Promise((resolve) => setImmediate(resolve));
      else throw new Error('the workload has no player to act and nothing is in flight');
    }
    const chained = events[0]!.turn === lastTurn;
    lastTurn = events[events.length - 1]!.turn;
    outstanding += 1;
    requests += 1;
    const before = new Set<Promise<unknown>>(chained ? [previous] : []);
    if (workload.ordered) {
      for (const event of events) {
        for (const id of [event.entityId, ...event.reads]) {
          const writer = writers.get(id);
          if (writer) before.add(writer);
        }
      }
    }
    const sent = dispatch(events, due, before.size > 0 ? Promise.all(before) : undefined);
    previous = sent;
    if (workload.ordered) {
      for (const event of events) writers.set(event.entityId, sent);
      void sent.then(() => {
        for (const event of events) if (writers.get(event.entityId) === sent) writers.delete(event.entityId);
      });
    }
  }
  while (outstanding > 0) await new Promise<void>((resolve) => (slotFreed = resolve));
  return {
    offered: step.eventsPerSecond,
    achieved: acked / step.seconds,
    applied,
    latencyMs: summarise(latencies),
    fromDueLatencyMs: summarise(fromDue),
    majorLatencyMs: summarise(majorLatencies),
    requests,
    refused,
    failed,
    unsent,
    refusedEntities,
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
