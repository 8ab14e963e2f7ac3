import type { CopyChanges, SnapshotPacing } from '@lorekeeper/pg-store';
import {
  beginSnapshotCopy,
  completeSnapshotCopy,
  copyEntitiesPaced,
  dropSnapshot,
  entitiesArchivedAfter,
  findSnapshotAtOrBefore,
  snapshotChain,
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
 * While the campaign catches up a backlog, a snapshot that came due waits until this many intervals of
 * a full copy (SNAPSHOT_EVERY_EVENTS, or the full copy's rows if more) have passed since the last.
 */
const CATCH_UP_DEFERRAL = 2;

/** The campaign's latest snapshot, as the choice of the next one needs it. */
interface LastSnapshot {
  /** Undefined while the campaign has none. */
  readonly id: number | undefined;
  readonly seq: number;
  /** Rows of the snapshot its chain starts from, the one holding every entity. */
  readonly fullRows: number;
  /** Rows of the chain's snapshots after that one: what a replay reads beyond a full copy. */
  readonly laidOverRows: number;
}

const NO_SNAPSHOT: LastSnapshot = { id: undefined, seq: 0, fullRows: 0, laidOverRows: 0 };

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
 * One campaign's replay snapshots, taken by its consumer after flushes, so that `lorekeeper state --at`
 * folds a bounded number of archived events whatever the history's length. Each snapshot holds either
 * every entity, or only what changed since the one before, its base (pg-store's snapshot chain): the
 * entities the archive's events since then are about. A snapshot of what changed is taken every
 * SNAPSHOT_EVERY_EVENTS events: it writes at most a row per persistent event since its base, and on a
 * large world a tenth of a full copy or less (bench/results/NOTES.md). Once the chain's snapshots of
 * what changed hold as many rows as the full one it starts from, the next holds every entity again, so
 * a replay reads at most about twice a full copy; that one waits until as many events as it has
 * entities have passed, so it too costs no more than a row per event folded. It runs beside the folding
 * and flushing, paced (PACING) so the flushes keep their share of Postgres, and without a long
 * transaction: chunks copied one statement at a time, then the entities the flushes changed meanwhile
 * copied again in one short transaction at the checkpoint (copy-beside-flushes.ts in pg-store). This
 * worker's flushes are the only writes to the campaign's entities while it owns it, so afterFlush is
 * told what each wrote. A failed snapshot costs only replay speed: its rows are dropped, it is logged,
 * and it is tried again after the next flush.
 *
 * The worker keeps one per campaign, apart from the campaign's consumer: a copy under way when the
 * session ends is finished, not thrown away (a paced copy of a large world outlasts many a session,
 * and each abandoned one was Postgres work for nothing). It is abandoned when the campaign moves to
 * another worker or this one stops.
 */
export class ReplaySnapshots {
  /** The campaign's latest snapshot; read from Postgres after the first flush. */
  private last: LastSnapshot | undefined;
  /** A snapshot being taken, beside folding and flushing. */
  private taking: Promise<void> | undefined;
  /** What the flushes changed since the snapshot being taken began. */
  private changes: ChangesSinceCopy | undefined;
  private readonly abandon = new AbortController();
  /** A due snapshot waits for a catch-up to end (logged once per wait). */
  private deferred = false;

  constructor(
    private readonly deps: Pick<WorkerDeps, 'config' | 'db' | 'logger' | 'metrics'>,
    private readonly campaignId: string,
    /** The worker's, shared by all its campaigns. */
    private readonly slots = new CopySlots(),
    private readonly pacing: Omit<SnapshotPacing, 'signal'> = PACING,
  ) {}

  /**
   * A flush committed `batch` (or found nothing to write): count what it changed into a copy under way,
   * or take a snapshot if one is due and none is being taken. Call it for every flush of the campaign,
   * as soon as it commits. `behind`: the campaign is catching up a backlog, so a snapshot that came due
   * waits (up to CATCH_UP_DEFERRAL full intervals) for a flush once it caught up.
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
      const last = (this.last ??= await this.latest(seq));
      const since = seq - last.seq;
      // Of what changed while the chain is shorter than a full copy; else of everything, once that
      // costs no more than a row per event since the last.
      const base = last.id !== undefined && last.laidOverRows < last.fullRows ? last : undefined;
      const interval = base ? every : Math.max(every, last.fullRows);
      if (since < interval) return;
      // A copy beside a catch-up takes Postgres time the backlog needs (bench/results/NOTES.md): it
      // waits until the campaign caught up, or until twice a full copy's interval passed, so a worker
      // that stays behind still takes its snapshots. A copy of what changed waits as long: small as it
      // is, it would come due every few seconds of a catch-up.
      if (behind && since < CATCH_UP_DEFERRAL * Math.max(every, last.fullRows)) {
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
      const holds = base ? 'changes' : 'every-entity';
      const snapshot = await this.copy(changes, base)
        .catch((error: unknown) => {
          const outcome = this.abandon.signal.aborted ? 'abandoned' : 'failed';
          this.deps.metrics.replaySnapshots.inc({ holds, outcome });
          throw error;
        })
        .finally(() => this.slots.give());
      this.deps.metrics.replaySnapshots.inc({ holds, outcome: 'taken' });
      this.deps.metrics.rowsWritten.inc({ kind: 'snapshot' }, snapshot.entityCount);
      this.last = {
        id: snapshot.id,
        seq: snapshot.seq,
        fullRows: base ? base.fullRows : snapshot.entityCount,
        laidOverRows: base ? base.laidOverRows + snapshot.entityCount : 0,
      };
      this.deps.logger.info(
        {
          campaignId: this.campaignId,
          seq: snapshot.seq,
          // Every entity, or (with a base) the entities changed or removed since the base.
          rows: snapshot.entityCount,
          baseSeq: base?.seq,
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

  /** The latest complete snapshot at or before `seq`, with its chain's sizes. */
  private async latest(seq: number): Promise<LastSnapshot> {
    const snapshot = await findSnapshotAtOrBefore(this.deps.db, this.campaignId, seq);
    if (!snapshot) return NO_SNAPSHOT;
    const [full, ...laidOver] = await snapshotChain(this.deps.db, snapshot.id);
    return {
      id: snapshot.id,
      seq: snapshot.seq,
      fullRows: full?.rows ?? 0,
      laidOverRows: laidOver.reduce((sum, link) => sum + link.rows, 0),
    };
  }

  /**
   * Copy the campaign's entities beside the flushes (all of them, or with a base those the archive's
   * events since it are about) and complete the copy; drop it if that fails.
   */
  private async copy(changes: ChangesSinceCopy, base: LastSnapshot | undefined) {
    const { db } = this.deps;
    const signal = this.abandon.signal;
    const snapshotId = await beginSnapshotCopy(db, this.campaignId, base?.id ?? null);
    try {
      // Read after `changes` began counting: together they hold every entity changed since the base.
      const only = base && (await entitiesArchivedAfter(db, this.campaignId, base.seq));
      const pacing = { ...this.pacing, signal };
      const copied = await copyEntitiesPaced(db, this.campaignId, snapshotId, pacing, only);
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
