import { createSnapshot, findSnapshotAtOrBefore } from '@lorekeeper/pg-store';
import type { WorkerDeps } from './deps';

/**
 * A snapshot's copy goes in chunks of this many entities, resting three times as long as each took:
 * on a 1,000,000-entity campaign one unpaced copy held Postgres for seconds and decided the lag p99 of
 * the flushes behind it (bench/results/NOTES.md).
 */
const PACING = { chunkRows: 20_000, restRatio: 3 };

/**
 * Snapshots one worker copies at a time, across its campaigns. A copy holds one of the worker's
 * Postgres connections from start to end (about 45 s for a 1,000,000-entity world), and the flushes
 * need the rest: a worker whose campaigns all came due at once must not take its whole pool. One that
 * finds no free slot is tried again after the campaign's next flush.
 */
export class CopySlots {
  private used = 0;

  constructor(readonly limit = 2) {}

  take(): boolean {
    if (this.used >= this.limit) return false;
    this.used += 1;
    return true;
  }

  give(): void {
    this.used -= 1;
  }
}

/**
 * One campaign's replay snapshots, taken by its consumer after flushes. A snapshot copies the durable
 * state into Postgres every SNAPSHOT_EVERY_EVENTS events, or every as many events as the campaign has
 * entities if that is more: a snapshot copies every entity, so this keeps its cost at no more than one
 * row per event folded, whatever the world's size, while `lorekeeper state --at` folds at most that many
 * archived events. It runs beside the folding and flushing (its own REPEATABLE READ transaction sees one
 * checkpoint and the state at it), paced (PACING) so the flushes keep their share of Postgres. A failed
 * snapshot costs only replay speed: logged, and tried again after the next flush.
 *
 * The worker keeps one per campaign, apart from the campaign's consumer: a copy under way when the
 * session ends is finished, not thrown away (a paced copy of a large world outlasts many a session,
 * and each abandoned one was Postgres work for nothing). It is abandoned when the campaign moves to
 * another worker or this one stops.
 */
export class ReplaySnapshots {
  /** The campaign's latest snapshot; read from Postgres after the first flush. */
  private last: { readonly seq: number; readonly entityCount: number } | undefined;
  /** A snapshot being taken, beside folding and flushing. */
  private taking: Promise<void> | undefined;
  private readonly abandon = new AbortController();

  constructor(
    private readonly deps: Pick<WorkerDeps, 'config' | 'db' | 'logger'>,
    private readonly campaignId: string,
    /** The worker's, shared by all its campaigns. */
    private readonly slots = new CopySlots(),
  ) {}

  /** A flush made `seq` durable: take a snapshot if one is due and none is being taken. */
  afterFlush(seq: number): void {
    const every = this.deps.config.worker.snapshotEveryEvents;
    if (every === 0 || this.taking || this.abandon.signal.aborted) return;
    const taking = this.takeIfDue(seq, every).finally(() => {
      if (this.taking === taking) this.taking = undefined;
    });
    this.taking = taking;
  }

  /** Resolves once no snapshot is being copied. */
  async idle(): Promise<void> {
    while (this.taking) await this.taking;
  }

  /** Abandon a snapshot being copied (it rolls back) and resolve once it has; takes no more after. */
  async settled(): Promise<void> {
    this.abandon.abort(new Error('the campaign moved to another worker, or this one is stopping'));
    await this.taking;
  }

  private async takeIfDue(seq: number, every: number): Promise<void> {
    try {
      this.last ??= (await findSnapshotAtOrBefore(this.deps.db, this.campaignId, seq)) ?? {
        seq: 0,
        entityCount: 0,
      };
      if (seq - this.last.seq < Math.max(every, this.last.entityCount)) return;
      if (!this.slots.take()) return;
      const snapshot = await createSnapshot(this.deps.db, this.campaignId, (at) => `auto-${at}`, {
        ...PACING,
        signal: this.abandon.signal,
      }).finally(() => this.slots.give());
      this.last = snapshot;
      this.deps.logger.info(
        { campaignId: this.campaignId, seq: snapshot.seq, entities: snapshot.entityCount },
        'took a replay snapshot',
      );
    } catch (error) {
      if (this.abandon.signal.aborted) {
        this.deps.logger.info(
          { campaignId: this.campaignId },
          'replay snapshot abandoned: the campaign moved or the worker is stopping',
        );
        return;
      }
      this.deps.logger.warn({ campaignId: this.campaignId, err: error }, 'replay snapshot failed');
    }
  }
}
