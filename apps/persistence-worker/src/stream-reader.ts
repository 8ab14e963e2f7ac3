import type { ReadEntry, StreamEvent, TypeOnly } from '@lorekeeper/redis-store';
import { readGroup, readHeadSeq, readRange, seqOfStreamId } from '@lorekeeper/redis-store';
import type { WorkerDeps } from './deps';

/** Entries per read. */
export const READ_COUNT = 1_000;
const TAIL_CHECK_MS = 1_000;
/** Entries older than this, read a full batch at a time, mean the worker is catching up a backlog. */
const CATCH_UP_AGE_MS = 5_000;

/**
 * Where a consumer's entries come from: first, by range, what the group handed out past the
 * checkpoint before this consumer took the campaign (`replay`); then new ones through the consumer
 * group, read one batch ahead while catching up; and the entries a paused former owner was given,
 * which the group never hands to this consumer (`gap`, `tail`).
 */
export class StreamReader {
  /** The seqs still to read again by range (see replay); undefined once they are all read. */
  private replaying: { next: number; readonly last: number } | undefined;
  /** A read sent before the last one was folded (see next). */
  private ahead: Promise<Settled<ReadEntry[]>> | undefined;
  private tailCheckedAt = 0;
  /**
   * Transient events: the worker writes nothing of them (DESIGN.md, invariant 5), so their data and
   * meta are not parsed. They were 45% of a catch-up of the simulated mix (docs/architecture.md,
   * "Reading").
   */
  private readonly typeOnly: TypeOnly;

  /**
   * @param prepare called with each read-ahead as soon as it arrives, while the previous read is
   *   still being folded (the consumer loads the entities it will need); it must not throw.
   */
  constructor(
    private readonly deps: Pick<WorkerDeps, 'redis' | 'workerId' | 'registry'>,
    private readonly campaignId: string,
    private readonly prepare: (entries: readonly ReadEntry[]) => Promise<void> = async () => {},
  ) {
    this.typeOnly = (type) => deps.registry.event(type)?.persistence === 'transient';
  }

  /**
   * Read [fromSeq, lastSeq] by range before anything new: the entries the group delivered before this
   * consumer took the campaign (to this worker before a restart, or to a former owner), from just past
   * the checkpoint up to the group's last delivered id. The group hands each entry out once, and keeps
   * no list of what it handed out (readGroup reads without acknowledgement), so these are read by id.
   */
  replay(fromSeq: number, lastSeq: number): void {
    this.replaying = fromSeq <= lastSeq ? { next: fromSeq, last: lastSeq } : undefined;
  }

  /**
   * The next entries: those read ahead during the last fold, if any. After a full read the stream
   * likely holds more (catching up), so the next read is sent at once, and Redis answers it and
   * `prepare` runs on it while this one is folded.
   */
  async next(): Promise<ReadEntry[]> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const read = ahead ? await settledValue(ahead) : await this.read();
    if (read.length === READ_COUNT) {
      this.ahead = settle(
        this.read().then(async (entries) => {
          await this.prepare(entries);
          return entries;
        }),
      );
    }
    return read;
  }

  /**
   * Entries at the stream's tail that a paused former owner was given after this consumer joined:
   * no later entry reveals that gap (see `gap`), so when the stream looks drained, compare the fold
   * head with the campaign's head seq and read what lies between. At most once a second, or at once
   * when a save or session end waits for the head (`urgent`).
   */
  async tail(foldHead: number, now: number, urgent: boolean): Promise<ReadEntry[]> {
    if (!urgent && now - this.tailCheckedAt < TAIL_CHECK_MS) return [];
    this.tailCheckedAt = now;
    const head = await readHeadSeq(this.deps.redis, this.campaignId);
    const from = foldHead + 1;
    if (head < from) return [];
    const to = Math.min(head, from + READ_COUNT - 1);
    return readRange(this.deps.redis, this.campaignId, from, to, undefined, this.typeOnly);
  }

  /**
   * Entries from `fromSeq` up to, not including, `beforeSeq` that this consumer was never given (a
   * paused former owner read them): read them from the stream, so the log stays contiguous. Throws
   * when the stream no longer has them.
   */
  async gap(fromSeq: number, beforeSeq: number): Promise<ReadEntry[]> {
    if (beforeSeq <= fromSeq) return [];
    const { redis } = this.deps;
    const missing = await readRange(redis, this.campaignId, fromSeq, beforeSeq - 1, undefined, this.typeOnly);
    if (missing.length === 0) {
      throw new Error(`entries ${fromSeq}..${beforeSeq - 1} are missing from the stream`);
    }
    return missing;
  }

  private async read(): Promise<ReadEntry[]> {
    const replaying = this.replaying;
    if (replaying) {
      const { redis } = this.deps;
      const { next, last } = replaying;
      const entries = await readRange(redis, this.campaignId, next, last, READ_COUNT, this.typeOnly);
      // A short read reached the end of the stream.
      const lastSeq =
        entries.length === READ_COUNT ? seqOfStreamId((entries.at(-1) as ReadEntry).streamId) : Infinity;
      if (lastSeq < replaying.last) replaying.next = lastSeq + 1;
      else this.replaying = undefined;
      if (entries.length > 0) return entries;
    }
    return readGroup(this.deps.redis, this.campaignId, this.deps.workerId, READ_COUNT, this.typeOnly);
  }
}

/**
 * A read that came back full of entries appended more than CATCH_UP_AGE_MS ago: a backlog waits in
 * the stream (after an outage or a restart). A full read of fresh entries is only a busy campaign,
 * whose lag the normal bound keeps short.
 */
export function isBacklog(read: readonly ReadEntry[], now: number): boolean {
  const last = read.at(-1);
  if (read.length < READ_COUNT || !last?.ok) return false;
  return now - Date.parse(last.event.meta.at) > CATCH_UP_AGE_MS;
}

type Settled<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: unknown };

/** A promise that never rejects, so one nobody awaits yet cannot become an unhandled rejection. */
function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value }),
    (error: unknown) => ({ ok: false, error }),
  );
}

async function settledValue<T>(settled: Promise<Settled<T>>): Promise<T> {
  const outcome = await settled;
  if (outcome.ok) return outcome.value;
  throw outcome.error;
}

/** The decoded events of a read (a loop: a read of 1,000 entries made 1,000 arrays with flatMap). */
export function eventsOf(entries: readonly ReadEntry[]): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const entry of entries) if (entry.ok) events.push(entry.event);
  return events;
}
