import type { CopyChanges, SnapshotPacing } from '@lorekeeper/pg-store';
import {
  beginSnapshotCopy,
  completeSnapshotCopy,
  copyEntitiesPaced,
  dropSnapshot,
  findSnapshotAtOrBefore,
} from '@lorekeeper/pg-store';
import type { FlushBatch } from './campaign-fold';
import type { WorkerDeps } from './deps';

/**
 * A snapshot's copy goes in chunks of this many entities, resting three times as long as each took:
 * on a 1,000,000-entity campaign one unpaced copy held Postgres for seconds and decided the lag p99 of
 * the flushes behind it (bench/results/NOTES.md). Chunks of 5,000 left the continuous-mode lag p99 where
 * it is without snapshots; chunks of 20,000 still showed in it (62-117 ms against 113-235 ms, three rounds
 * each on the 2-core machine).
 */
const PACING = { chunkRows: 5_000, restRatio: 3 };

/**
 * Completing a copy needs every flush committed before it to be counted in its changes; one that
 * committed a moment before its answer reached the consumer is counted a moment later. So completion is
 * tried again after a pause, this many times, before the copy is given up.
 */
const COMPLETION = { attempts: 50, pauseMs: 100 };

/**
 * While the campaign catches up a backlog, a snapshot that came due waits until it is this many
 * intervals overdue.
 */
const CATCH_UP_DEFERRAL = 2;

/** What a flush wrote, as a copy under way needs it. */
export type FlushedBatch = Pick<FlushBatch, 'from' | 'to' | 'upserts' | 'deletes'>;

/**
 * Every entity the campaign's flushes wrote or deleted since a copy began, recorded as each flush
 * commits. A copy must see every flush from its start: one whose batch does not begin where the last
 * ended (the campaign went to another worker and came back) breaks it.
 */
class ChangesSinceCopy implements CopyChanges {
  readonly ids = new Set<string>();
  broken = false;

  constructor(public throughSeq: number) {}

  record(batch: FlushedBatch): void {
    if (batch.to.seq <= this.throughSeq) return;
    if (batch.from.seq > this.throughSeq) this.broken = true;
    for (const entity of batch.upserts) this.ids.add(entity.id);
    for (const id of batch.deletes) this.ids.add(id);
    this.throughSeq = batch.to.seq;
  }
}

/**
 * Snapshots one worker copies at a time, across its campaigns. A copy keeps one of the worker's
 * Postgres connections busy a quarter of the time for as long as it runs (tens of seconds for a
 * 1,000,000-entity world), and the flushes need the rest of the pool: a worker whose campaigns all came
 * due at once must not take it all. One that finds no free slot is tried again after the campaign's
 * next flush.
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
 * archived events (twice as many where a catch-up deferred the snapshot). It runs beside the folding and flushing, paced (PACING) so the flushes keep their
 * share of Postgres, and without a long transaction: chunks copied one statement at a time, then the
 * entities the flushes changed meanwhile copied again in one short transaction at the checkpoint
 * (copy-beside-flushes.ts in pg-store). This worker's flushes are the only writes to the campaign's
 * entities while it owns it, so afterFlush is told what each wrote. A failed snapshot costs only replay
 * speed: its rows are dropped, it is logged, and it is tried again after the next flush.
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
  /** What the flushes changed since the snapshot being taken began. */
  private changes: ChangesSinceCopy | undefined;
  private readonly abandon = new AbortController();
  /** A due snapshot waits for a catch-up to end (logged once per wait). */
  private deferred = false;

  constructor(
    private readonly deps: Pick<WorkerDeps, 'config' | 'db' | 'logger'>,
    private readonly campaignId: string,
    /** The worker's, shared by all its campaigns. */
    private readonly slots = new CopySlots(),
    private readonly pacing: Omit<SnapshotPacing, 'signal'> = PACING,
  ) {}

  /**
   * A flush committed `batch` (or found nothing to write): count what it changed into a copy under way,
   * or take a snapshot if one is due and none is being taken. Call it for every flush of the campaign,
   * as soon as it commits. `behind`: the campaign is catching up a backlog, so a snapshot that came due
   * waits (up to CATCH_UP_DEFERRAL intervals) for a flush once it caught up.
   */
  afterFlush(batch: FlushedBatch, behind = false): void {
    this.changes?.record(batch);
    const every = this.deps.config.worker.snapshotEveryEvents;
    if (every === 0 || this.taking || this.abandon.signal.aborted) return;
    // Counted from now, before anything is awaited: a chunk may be read after any later flush.
    const changes = new ChangesSinceCopy(batch.to.seq);
    this.changes = changes;
    const taking = this.takeIfDue(batch.to.seq, every, behind, changes).finally(() => {
      if (this.changes === changes) this.changes = undefined;
      if (this.taking === taking) this.taking = undefined;
    });
    this.taking = taking;
  }

  /** Resolves once no snapshot is being copied. */
  async idle(): Promise<void> {
    while (this.taking) await this.taking;
  }

  /** Abandon a snapshot being copied (its rows are dropped) and resolve once it is; takes no more after. */
  async settled(): Promise<void> {
    this.abandon.abort(new Error('the campaign moved to another worker, or this one is stopping'));
    await this.taking;
  }

  private async takeIfDue(
    seq: number,
    every: number,
    behind: boolean,
    changes: ChangesSinceCopy,
  ): Promise<void> {
    try {
      this.last ??= (await findSnapshotAtOrBefore(this.deps.db, this.campaignId, seq)) ?? {
        seq: 0,
        entityCount: 0,
      };
      const since = seq - this.last.seq;
      const interval = Math.max(every, this.last.entityCount);
      if (since < interval) return;
      // A copy beside a catch-up takes Postgres time the backlog needs (bench/results/NOTES.md): it
      // waits until the campaign caught up, or for one more interval, so a worker that stays behind
      // still takes its snapshots.
      if (behind && since < CATCH_UP_DEFERRAL * interval) {
        if (!this.deferred) {
          this.deferred = true;
          this.deps.logger.info(
            { campaignId: this.campaignId, seq, sinceLast: since },
            'replay snapshot due; deferred until the campaign caught up its backlog',
          );
        }
        return;
      }
      this.deferred = false;
      if (!this.slots.take()) return;
      const started = performance.now();
      const snapshot = await this.copy(changes).finally(() => this.slots.give());
      this.last = snapshot;
      this.deps.logger.info(
        {
          campaignId: this.campaignId,
          seq: snapshot.seq,
          entities: snapshot.entityCount,
          // Written or deleted by flushes during the copy, so copied again at the end.
          recopied: changes.ids.size,
          ms: Math.round(performance.now() - started),
        },
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

  /** Copy the campaign's entities beside the flushes and complete the copy; drop it if that fails. */
  private async copy(changes: ChangesSinceCopy) {
    const { db } = this.deps;
    const signal = this.abandon.signal;
    const snapshotId = await beginSnapshotCopy(db, this.campaignId);
    try {
      const copied = await copyEntitiesPaced(db, this.campaignId, snapshotId, { ...this.pacing, signal });
      for (let attempt = 1; ; attempt += 1) {
        signal.throwIfAborted();
        if (changes.broken) throw new Error('a flush of the campaign was not counted while copying');
        const done = await completeSnapshotCopy(
          db,
          this.campaignId,
          snapshotId,
          copied,
          changes,
          (at) => `auto-${at}`,
        );
        if (done) return done;
        if (attempt === COMPLETION.attempts) {
          throw new Error(
            'the checkpoint stayed past the flushes counted; another worker may own the campaign',
          );
        }
        await new Promise((resolve) => setTimeout(resolve, COMPLETION.pauseMs));
      }
    } catch (error) {
      await dropSnapshot(db, snapshotId).catch((dropError: unknown) =>
        this.deps.logger.warn(
          { campaignId: this.campaignId, snapshotId, err: dropError },
          'could not drop an incomplete replay snapshot; the next copy of the campaign drops it',
        ),
      );
      throw error;
    }
  }
}
