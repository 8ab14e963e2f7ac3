import { isUnavailable } from '@lorekeeper/config';
import type { Checkpoint, SyncTrigger } from '@lorekeeper/pg-store';
import { findEntities } from '@lorekeeper/pg-store';
import type { ReadEntry, StreamEvent } from '@lorekeeper/redis-store';
import {
  clearPending,
  ensureGroup,
  readGroupInfo,
  readSession,
  seqOfStreamId,
} from '@lorekeeper/redis-store';
import { CampaignFold } from './campaign-fold';
import { quarantineWithLetter } from './dead-letter';
import type { WorkerDeps } from './deps';
import { FencedError, SessionGoneError, commitFlush, trimFlushed } from './flush';
import { FlushRetry } from './flush-retry';
import { ReplaySnapshots } from './replay-snapshots';
import { awaitedMajor, dueSavePoint } from './save-points';
import { READ_COUNT, StreamReader, eventsOf, isBacklog } from './stream-reader';

export type ConsumerState = 'running' | 'quarantined' | 'lost';

/**
 * Consumes one campaign's stream for the worker that holds its lease: reads entries (first, by range,
 * those the group handed out past the checkpoint before it took the campaign), folds them, and
 * flushes when a save point says so. Plain code: the worker loop calls `step()`; a test can too.
 */
export class CampaignConsumer {
  private readonly fold: CampaignFold;
  private state: ConsumerState = 'running';
  private grouped = false;
  private readonly reader: StreamReader;
  /** Entries read but not folded yet (Postgres was unreachable, or a poison entry is being retried). */
  private unfolded: ReadEntry[] = [];
  private readonly attempts = new Map<string, number>();
  private flushing: Promise<void> | undefined;
  private requested: SyncTrigger | undefined;
  private majorSeen = false;
  private lastFlushAt = Date.now();
  private readonly retry = new FlushRetry();
  private readonly snapshots: ReplaySnapshots;
  /** The last read came back full of old entries: a backlog is waiting in the stream. */
  private behind = false;
  /** The Redis session whose stream this consumer folds (read when it joins the group). */
  private sessionId: string | undefined;
  /** The read-ahead whose entities `prefetch` loaded, and the cache generation they were loaded in. */
  private prepared: { readonly entries: readonly ReadEntry[]; readonly generation: number } | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    readonly campaignId: string,
    checkpoint: Checkpoint,
    /** The worker's, which outlive this consumer (see ReplaySnapshots). */
    snapshots = new ReplaySnapshots(deps, campaignId),
    /** Where the campaign's archive ends (DurablePosition.archived): the checkpoint when not past it. */
    archived: Checkpoint = checkpoint,
  ) {
    this.fold = new CampaignFold(campaignId, checkpoint, deps.registry, archived);
    this.snapshots = snapshots;
    this.reader = new StreamReader(deps, campaignId, (entries) => this.prefetch(entries));
  }

  get status(): ConsumerState {
    return this.state;
  }

  get checkpoint(): Checkpoint {
    return this.fold.durable;
  }

  /** The lease was found held by another worker: stop at once (its checkpoint CAS would fail anyway). */
  markLost(): void {
    if (this.state === 'running') this.state = 'lost';
  }

  /**
   * The flush in flight when this consumer has folded as far past it as the backlog bound allows:
   * `step` does nothing until it ends. Undefined otherwise.
   */
  get waitingFor(): Promise<void> | undefined {
    return this.flushing && this.fold.sinceBatch >= this.backlogBound().events ? this.flushing : undefined;
  }

  /** A save or session end asks for everything up to the head to become durable. */
  requestFlush(trigger: SyncTrigger): void {
    // A major event's request only wakes the loop: it never replaces a save or session end waiting.
    if (trigger !== 'major' || this.requested === undefined) this.requested = trigger;
    this.retry.now();
  }

  /** Read and fold what is new, then flush if a save point is due. Returns how many entries it handled. */
  async step(now = Date.now()): Promise<number> {
    if (this.state !== 'running') return 0;
    // Folding goes on while a flush is written (the next flush takes what it folds), up to the
    // backlog bound past the batch being written: past it, wait for the flush.
    if (this.waitingFor) return 0;
    if (!this.grouped) {
      if (!(await ensureGroup(this.deps.redis, this.campaignId))) return 0;
      this.sessionId = (await readSession(this.deps.redis, this.campaignId))?.id;
      await clearPending(this.deps.redis, this.campaignId, this.deps.workerId);
      // What the group handed out past the checkpoint, to this worker before a restart or to a former
      // owner, is read again first.
      const delivered = (await readGroupInfo(this.deps.redis, this.campaignId))?.lastDeliveredId ?? '0-0';
      this.reader.replay(this.fold.head.seq + 1, seqOfStreamId(delivered));
      this.grouped = true;
    }
    let read: ReadEntry[] = [];
    try {
      if (this.unfolded.length === 0) read = await this.reader.next();
      if (read.length === 0 && this.unfolded.length === 0) {
        read = await this.reader.tail(this.fold.head.seq, now, this.requested !== undefined);
      }
    } catch (error) {
      // The group is gone with the stream: Redis lost the campaign (flushed, or restarted empty).
      if (!(error instanceof Error) || !/NOGROUP/.test(error.message)) throw error;
      this.giveUp('the stream and its consumer group are gone from Redis');
      return 0;
    }
    // A read-ahead `prefetch` loaded the entities of, with nothing forgotten since, needs no lookup.
    const loaded =
      this.unfolded.length === 0 &&
      this.prepared?.entries === read &&
      this.prepared.generation === this.fold.generation;
    this.prepared = undefined;
    const entries = [...this.unfolded, ...read];
    this.unfolded = [];
    const folded = await this.foldAll(entries, now, loaded);
    if (read.length > 0 || this.unfolded.length === 0) this.behind = isBacklog(read, now);
    this.maybeFlush(now, read.length < READ_COUNT);
    this.report(now);
    return folded;
  }

  /**
   * Wait for a flush in flight, then write whatever is left (graceful shutdown, hand-over, release) —
   * unless the session it was folding is gone from Redis. A session that ended had its final sync,
   * so nothing is left; a session Redis lost (flushed, restarted empty or from an older AOF and
   * dropped) was never durable past the checkpoint, and the game server may already have started
   * again from that checkpoint: writing the rest now would move the checkpoint under the new session
   * and give its seqs twice (DESIGN.md, failure model).
   */
  async drain(): Promise<void> {
    await this.flushing;
    if (this.state !== 'running' || !this.fold.hasWork) return;
    this.startFlush('shutdown');
    await this.flushing;
  }

  /**
   * Stop folding a session Redis no longer has, writing nothing more: the worker lets the consumer go
   * and, if the campaign has a session again, takes it over afresh from the Postgres checkpoint.
   */
  private giveUp(reason: string): void {
    this.state = 'lost';
    this.deps.logger.warn(
      { campaignId: this.campaignId, checkpoint: this.fold.durable.seq, folded: this.fold.head.seq },
      `${reason}; dropping what was folded but not durable`,
    );
  }

  /** True only when Redis answers and holds no session, or another one; unreachable counts as present. */
  private async sessionGone(): Promise<boolean> {
    if (this.sessionId === undefined) return false;
    try {
      return (await readSession(this.deps.redis, this.campaignId))?.id !== this.sessionId;
    } catch {
      return false;
    }
  }

  /** @param loaded true when every entity the entries touch is cached already (see prefetch). */
  private async foldAll(entries: ReadEntry[], now: number, loaded = false): Promise<number> {
    try {
      // One query for every entity these entries touch that is not cached yet.
      if (!loaded) await this.loadMissing(eventsOf(entries));
    } catch (error) {
      this.unfolded = entries;
      if (!isUnavailable(error)) throw error;
      this.deps.logger.warn(
        { campaignId: this.campaignId, err: error },
        'Postgres unreachable while folding; will retry',
      );
      return 0;
    }
    let done = 0;
    for (let i = 0; i < entries.length; i += 1) {
      const entry = entries[i] as ReadEntry;
      try {
        if (!entry.ok) throw new Error(`undecodable stream entry: ${entry.error}`);
        // Almost always neither: the entry follows the last one and its entity is cached.
        if (entry.event.seq > this.fold.head.seq + 1) {
          const gap = await this.reader.gap(this.fold.head.seq + 1, entry.event.seq);
          if (gap.length > 0) {
            entries.splice(i, 0, ...gap);
            i -= 1;
            continue;
          }
        }
        // Not cached after all (the cache forgot it during an await, or a gap brought it): load it.
        if (!this.fold.fold(entry.event, entry.bytes, now)) {
          await this.loadMissing([entry.event]);
          i -= 1;
          continue;
        }
        const { durableWaitMs } = this.deps.config.sessionService;
        if (
          entry.event.seq > this.fold.durableEvents.seq &&
          awaitedMajor(this.fold.isMajor(entry.event), entry.event, now, durableWaitMs)
        ) {
          this.majorSeen = true;
        }
        this.attempts.delete(entry.streamId);
        this.deps.metrics.eventsFolded.inc();
        done += 1;
      } catch (error) {
        this.unfolded = entries.slice(i);
        if (isUnavailable(error)) {
          this.deps.logger.warn(
            { campaignId: this.campaignId, err: error },
            'Postgres unreachable while folding; will retry',
          );
        } else {
          await this.poisoned(entry, error);
        }
        break;
      }
    }
    return done;
  }

  /**
   * Load the entities a read-ahead will need while the read before it is folded, so Postgres answers
   * during the fold instead of after it. A failure is left to the fold, which loads what is still
   * missing and handles Postgres being unreachable.
   */
  private async prefetch(entries: readonly ReadEntry[]): Promise<void> {
    const ids = this.fold.missing(eventsOf(entries));
    const generation = this.fold.generation;
    try {
      if (ids.length > 0) {
        this.fold.remember(ids, await findEntities(this.deps.db, this.campaignId, ids), generation);
      }
      this.prepared = { entries, generation };
    } catch {
      // The fold tries again.
    }
  }

  private async loadMissing(events: readonly StreamEvent[]): Promise<void> {
    const ids = this.fold.missing(events);
    if (ids.length > 0) this.fold.remember(ids, await findEntities(this.deps.db, this.campaignId, ids));
  }

  /**
   * An entry that cannot be decoded or applied is retried a bounded number of times, then recorded
   * as a dead letter and the campaign is quarantined: never skipped silently (DESIGN.md, invariant 9).
   */
  private async poisoned(entry: ReadEntry, error: unknown): Promise<void> {
    const attempts = (this.attempts.get(entry.streamId) ?? 0) + 1;
    this.attempts.set(entry.streamId, attempts);
    const message = error instanceof Error ? error.message : String(error);
    this.deps.logger.warn(
      { campaignId: this.campaignId, streamId: entry.streamId, attempts, error: message },
      'entry does not apply',
    );
    if (attempts < this.deps.config.worker.poisonRetries) return;

    // Everything before the poison entry is good: make it durable first (after any flush in flight).
    await this.flushing;
    if (this.fold.hasWork) {
      this.startFlush('backlog');
      await this.flushing;
    }
    await quarantineWithLetter(this.deps.db, this.campaignId, entry, message);
    this.state = 'quarantined';
    this.deps.metrics.deadLetters.inc();
    this.deps.logger.error(
      { campaignId: this.campaignId, streamId: entry.streamId, error: message },
      'campaign quarantined: a stream entry does not apply; see `lorekeeper dead-letters list`',
    );
  }

  private maybeFlush(now: number, caughtUp: boolean): void {
    if (this.flushing || !this.retry.ready(now) || !this.fold.hasWork || this.state !== 'running') return;
    const trigger = dueSavePoint({
      requested: this.requested,
      caughtUp,
      backlog: this.fold.backlog,
      bound: this.backlogBound(),
      msSinceLastFlush: now - this.lastFlushAt,
      autosaveIntervalMs: this.deps.config.worker.autosaveIntervalMs,
      majorSeen: this.majorSeen,
    });
    if (trigger) this.startFlush(trigger);
  }

  /**
   * When a flush is due by size. Behind (a backlog waits in the stream: see isBacklog),
   * the bounds grow by CATCH_UP_BACKLOG_FACTOR: the events are in Redis already, so flushing less
   * often costs no Redis memory, and each entity changed all through the backlog is written once per
   * flush instead of once per BACKLOG_EVENTS (docs/configuration.md).
   */
  private backlogBound(): { events: number; bytes: number } {
    const { backlogEvents, backlogBytes, catchUpBacklogFactor } = this.deps.config.worker;
    const factor = this.behind ? catchUpBacklogFactor : 1;
    return { events: backlogEvents * factor, bytes: backlogBytes * factor };
  }

  /**
   * Write a save point's batch. A major event's makes it durable by archiving only (archiveAhead):
   * the entities, the checkpoint and the trimming wait for the next flush on the save cadence, so
   * quest completions every few dozen events no longer rewrite the dirty set each time.
   */
  private startFlush(trigger: SyncTrigger): void {
    const archiveOnly = trigger === 'major';
    const batch = archiveOnly ? this.fold.archiveBatch() : this.fold.batch();
    const started = performance.now();
    // Every flush reaches the head folded so far, so it makes each major event folded until now durable.
    const coversMajor = this.majorSeen;
    this.majorSeen = false;
    if (trigger === this.requested || this.requested === 'major') this.requested = undefined;
    this.flushing = (async () => {
      try {
        // Never write the fold of a session Redis lost: the game may have started again from the
        // checkpoint, and moving it now would hand that new session's seqs out twice. Checked inside
        // the flush's transaction, where no session start can pass it (flushCampaign).
        await commitFlush(
          this.deps,
          this.campaignId,
          batch,
          trigger,
          async () => !(await this.sessionGone()),
        );
        if (archiveOnly) this.fold.archivedUpTo(batch);
        else this.fold.committed(batch);
        this.deps.announceDurable?.({
          campaignId: this.campaignId,
          seq: batch.to.seq,
          checkpoint: this.fold.durable.seq,
        });
        if (!archiveOnly) this.snapshots.afterFlush(batch, this.behind);
        this.deps.logger.debug(
          {
            campaignId: this.campaignId,
            trigger,
            fromSeq: batch.from.seq,
            toSeq: batch.to.seq,
            ms: performance.now() - started,
          },
          'flushed',
        );
        this.retry.succeeded();
        this.deps.metrics.flushes.inc({ trigger, outcome: 'ok' });
        this.deps.metrics.flushSeconds.observe((performance.now() - started) / 1_000);
        if (archiveOnly) return;
        this.lastFlushAt = Date.now();
        await trimFlushed(this.deps, this.campaignId, batch);
      } catch (error) {
        this.deps.metrics.flushes.inc({ trigger, outcome: 'error' });
        if (error instanceof SessionGoneError) {
          this.giveUp('the session is gone from Redis before a flush');
          return;
        }
        if (error instanceof FencedError) {
          this.state = 'lost';
          this.deps.logger.warn({ campaignId: this.campaignId }, error.message);
          return;
        }
        // Try the same save point again after the backoff.
        if (coversMajor) this.majorSeen = true;
        if (trigger === 'manual' || trigger === 'session-end') this.requested ??= trigger;
        const retryInMs = this.retry.failed();
        this.deps.logger.warn(
          {
            campaignId: this.campaignId,
            trigger,
            failures: this.retry.failures,
            retryInMs,
            err: error,
          },
          'flush failed; retrying with backoff',
        );
      } finally {
        this.flushing = undefined;
      }
    })();
  }

  private report(now: number): void {
    const backlog = this.fold.backlog;
    const labels = { campaign: this.campaignId };
    this.deps.metrics.lagEvents.set(labels, this.fold.head.seq - this.fold.durable.seq);
    this.deps.metrics.lagSeconds.set(
      labels,
      backlog.oldestAt === undefined ? 0 : (now - backlog.oldestAt) / 1_000,
    );
  }
}
