import type { ReadEntry, StreamEvent } from '@lorekeeper/redis-store';
import { readAndClaimRange, readGroup, readHeadSeq } from '@lorekeeper/redis-store';
import type { WorkerDeps } from './deps';

/** Entries per read. */
export const READ_COUNT = 1_000;
const TAIL_CHECK_MS = 1_000;
/** Entries older than this, read a full batch at a time, mean the worker is catching up a backlog. */
const CATCH_UP_AGE_MS = 5_000;

/**
 * Where a consumer's entries come from: its own pending entries first (after a restart), then new
 * ones through the consumer group, read one batch ahead while catching up; and the entries a paused
 * former owner was given, which the group never hands to this consumer (`gap`, `tail`).
 */
export class StreamReader {
  /** Where re-reading this consumer's pending entries stands; undefined once they are all read. */
  private pendingCursor: string | undefined = '0';
  /** A read sent before the last one was folded (see next). */
  private ahead: Promise<Settled<ReadEntry[]>> | undefined;
  private tailCheckedAt = 0;

  /**
   * @param prepare called with each read-ahead as soon as it arrives, while the previous read is
   *   still being folded (the consumer loads the entities it will need); it must not throw.
   */
  constructor(
    private readonly deps: Pick<WorkerDeps, 'redis' | 'workerId'>,
    private readonly campaignId: string,
    private readonly prepare: (entries: readonly ReadEntry[]) => Promise<void> = async () => {},
  ) {}

  /**
   * The next entries: those read ahead during the last fold, if any. After a full read the stream
   * likely holds more (catching up), so the next read is sent at once, and Redis answers it and
   * `prepare` runs on it while this one is folded.
   */
  async next(): Promise<ReadEntry[]> {
    const ahead = this.ahead;
    this.ahead = undefined;
    const read = ahead ? await settledValue(ahead) : await this.read();
    if (read.length === READ_COUNT && this.pendingCursor === undefined) {
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
   * head with the campaign's head seq and claim what lies between. At most once a second, or at once
   * when a save or session end waits for the head (`urgent`).
   */
  async tail(foldHead: number, now: number, urgent: boolean): Promise<ReadEntry[]> {
    if (!urgent && now - this.tailCheckedAt < TAIL_CHECK_MS) return [];
    this.tailCheckedAt = now;
    const head = await readHeadSeq(this.deps.redis, this.campaignId);
    const from = foldHead + 1;
    if (head < from) return [];
    const to = Math.min(head, from + READ_COUNT - 1);
    return readAndClaimRange(this.deps.redis, this.campaignId, this.deps.workerId, from, to);
  }

  /**
   * Entries from `fromSeq` up to, not including, `beforeSeq` that this consumer was never given (a
   * paused former owner read them): read them from the stream and claim them, so the log stays
   * contiguous. Throws when the stream no longer has them.
   */
  async gap(fromSeq: number, beforeSeq: number): Promise<ReadEntry[]> {
    if (beforeSeq <= fromSeq) return [];
    const missing = await readAndClaimRange(
      this.deps.redis,
      this.campaignId,
      this.deps.workerId,
      fromSeq,
      beforeSeq - 1,
    );
    if (missing.length === 0) {
      throw new Error(`entries ${fromSeq}..${beforeSeq - 1} are missing from the stream`);
    }
    return missing;
  }

  private async read(): Promise<ReadEntry[]> {
    if (this.pendingCursor !== undefined) {
      const pending = await readGroup(
        this.deps.redis,
        this.campaignId,
        this.deps.workerId,
        this.pendingCursor,
        READ_COUNT,
      );
      const last = pending.at(-1);
      this.pendingCursor = last === undefined ? undefined : last.streamId;
      if (pending.length > 0) return pending;
    }
    return readGroup(this.deps.redis, this.campaignId, this.deps.workerId, '>', READ_COUNT);
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
