import type { Kysely } from 'kysely';
import { LorekeeperError, isLorekeeperError } from '@lorekeeper/domain';
import type { Database, SyncTrigger } from '@lorekeeper/pg-store';
import type { Checkpoint, DurablePosition } from '@lorekeeper/pg-store';
import {
  archiveEvents,
  archivedPositionUpdate,
  deleteEntities,
  indexEntityRange,
  lockPosition,
  moveCheckpoint,
  syncLogInsert,
  upsertEntities,
} from '@lorekeeper/pg-store';
import { trimBelow } from '@lorekeeper/redis-store';
import type { FlushBatch } from './campaign-fold';
import type { WorkerDeps } from './deps';

export interface FlushResult {
  readonly entitiesWritten: number;
  readonly entitiesDeleted: number;
  readonly eventsArchived: number;
  readonly durationMs: number;
}

/** Another worker moved the checkpoint: this one no longer owns the campaign and must let go. */
export class FencedError extends LorekeeperError {
  constructor(campaignId: string, expectedSeq: number) {
    super(
      'INTERNAL',
      `campaign ${campaignId}: the checkpoint is no longer at seq ${expectedSeq}; another worker owns it`,
    );
  }
}

/**
 * The session this flush folded is gone from Redis (flushed, restarted empty or replaced): the game may
 * have started a new one from the checkpoint, so nothing of the old one may be written.
 */
export class SessionGoneError extends LorekeeperError {
  constructor(campaignId: string) {
    super('INTERNAL', `campaign ${campaignId}: the session this worker folded is gone from Redis`);
  }
}

/**
 * Write one campaign's coalesced changes in one transaction: entities upserted and deleted, persistent
 * events archived (those a flush for a major event has not archived already), the flush logged, and
 * the checkpoint advanced by compare-and-set. Either all of it commits, or none (DESIGN.md, invariant
 * 3, as docs/architecture.md amends it).
 */
export async function flushCampaign(
  db: Kysely<Database>,
  campaignId: string,
  batch: FlushBatch,
  trigger: SyncTrigger,
  /**
   * Asked with the campaign's row locked, before anything is written: false rolls the flush back with
   * SessionGoneError. A session start reads the checkpoint under a share lock on that row, so it
   * cannot slip in between this answer and the commit.
   */
  sessionCurrent: () => Promise<boolean> = async () => true,
): Promise<FlushResult> {
  const started = performance.now();
  return db.transaction().execute(async (trx) => {
    // The checkpoint first: it locks the campaign's row, so a second flush of the campaign waits here
    // and then finds the checkpoint moved (fenced) before it writes anything. Checked last, a former
    // owner woken from a pause that committed first made this flush fail on the archive's key instead,
    // and the rightful owner retried that forever instead of starting again from the new checkpoint.
    const archivedSeq = await moveCheckpoint(trx, campaignId, batch.from, batch.to);
    if (archivedSeq === undefined) throw new FencedError(campaignId, batch.from.seq);
    if (!(await sessionCurrent())) throw new SessionGoneError(campaignId);
    const entitiesWritten = await upsertEntities(trx, campaignId, batch.upserts);
    const entitiesDeleted = await deleteEntities(trx, campaignId, batch.deletes);
    // Not what a flush for a major event archived already (read under the row's lock): whichever worker
    // archived those (this one before a restart, or a former owner), they are the same stream entries.
    const events = after(batch.events, archivedSeq);
    // The log row goes with the archive's insert, in its round trip: its time is the flush's up to there.
    const durationMs = performance.now() - started;
    const eventsArchived = await archiveEvents(trx, campaignId, events, [
      syncLogInsert(trx, {
        campaignId,
        fromSeq: batch.from.seq + 1,
        toSeq: batch.to.seq,
        entitiesWritten,
        entitiesDeleted,
        eventsArchived: events.length,
        durationMs,
        trigger,
      }),
    ]);
    // The entity index takes the checkpoint's range, the major events' chunks in it included.
    await indexEntityRange(trx, campaignId, batch.to.seq);
    return { entitiesWritten, entitiesDeleted, eventsArchived, durationMs };
  });
}

/**
 * Make a major event durable without writing the dirty set: archive the persistent events up to the
 * head the batch reaches and move the archive's position there, in one transaction, fenced like a
 * flush (the checkpoint must still be the batch's, the session still Redis's). The entities and the
 * checkpoint stay where they are until the next flush on the save cadence, which then archives only
 * what is past this position (docs/architecture.md, "Major events: the archive first").
 */
export async function archiveAhead(
  db: Kysely<Database>,
  campaignId: string,
  batch: FlushBatch,
  sessionCurrent: () => Promise<boolean> = async () => true,
): Promise<FlushResult> {
  const started = performance.now();
  return db.transaction().execute(async (trx) => {
    const position = await lockOwn(trx, campaignId, batch.from);
    if (batch.to.seq <= position.archived.seq) {
      if (!(await sessionCurrent())) throw new SessionGoneError(campaignId);
      return { entitiesWritten: 0, entitiesDeleted: 0, eventsArchived: 0, durationMs: 0 };
    }
    const events = after(batch.events, position.archived.seq);
    const durationMs = performance.now() - started;
    // One statement archives the events, moves the archive's position and logs the flush, while Redis
    // is asked about the session: with the row locked nothing of it is seen before the commit, and a
    // session found gone rolls it back. A round trip fewer on a major event's wait, where each one
    // waits for a process on a busy core (bench/results/NOTES.md).
    const [current, archived] = await Promise.allSettled([
      sessionCurrent(),
      archiveEvents(trx, campaignId, events, [
        archivedPositionUpdate(trx, campaignId, batch.to),
        syncLogInsert(trx, {
          campaignId,
          fromSeq: position.archived.seq + 1,
          toSeq: batch.to.seq,
          entitiesWritten: 0,
          entitiesDeleted: 0,
          eventsArchived: events.length,
          durationMs,
          trigger: 'major',
        }),
      ]),
    ]);
    // Both settled before either is thrown: no statement is still running when the transaction rolls back.
    if (current.status === 'rejected') throw current.reason;
    if (!current.value) throw new SessionGoneError(campaignId);
    if (archived.status === 'rejected') throw archived.reason;
    return { entitiesWritten: 0, entitiesDeleted: 0, eventsArchived: archived.value, durationMs };
  });
}

/**
 * Lock the campaign's row and read its position; FencedError unless the checkpoint is still `from`
 * (or the campaign has no row, as advanceCheckpoint would find).
 */
async function lockOwn(
  trx: Parameters<typeof lockPosition>[0],
  campaignId: string,
  from: Checkpoint,
): Promise<DurablePosition> {
  const position = await lockPosition(trx, campaignId, 'update').catch((error: unknown) => {
    if (isLorekeeperError(error) && error.code === 'CAMPAIGN_NOT_FOUND')
      throw new FencedError(campaignId, from.seq);
    throw error;
  });
  if (position.checkpoint.seq !== from.seq || position.checkpoint.streamId !== from.streamId) {
    throw new FencedError(campaignId, from.seq);
  }
  return position;
}

/** The events past `archivedSeq` (all of them, almost always: the fold leaves out what it archived). */
function after<T extends { readonly seq: number }>(events: readonly T[], archivedSeq: number): readonly T[] {
  return events.length > 0 && (events[0] as T).seq <= archivedSeq
    ? events.filter((event) => event.seq > archivedSeq)
    : events;
}

/**
 * A consumer's flush as the worker runs it: `archiveAhead` for a major event, `flushCampaign` for
 * every other save point, counted in the worker's metrics. A batch that moves nothing writes nothing.
 * Crash tests die here, in the window between the Postgres commit and the stream's trim
 * (`WORKER_CRASH_AFTER_COMMIT`).
 */
export async function commitFlush(
  deps: WorkerDeps,
  campaignId: string,
  batch: FlushBatch,
  trigger: SyncTrigger,
  sessionCurrent: () => Promise<boolean>,
): Promise<void> {
  if (batch.to.seq <= batch.from.seq) return;
  const result =
    trigger === 'major'
      ? await archiveAhead(deps.db, campaignId, batch, sessionCurrent)
      : await flushCampaign(deps.db, campaignId, batch, trigger, sessionCurrent);
  deps.metrics.rowsWritten.inc({ kind: 'entity' }, result.entitiesWritten + result.entitiesDeleted);
  deps.metrics.rowsWritten.inc({ kind: 'event' }, result.eventsArchived);
  if (Math.random() < deps.config.worker.crashAfterCommit) process.kill(process.pid, 'SIGKILL');
}

/** Only once the batch's checkpoint is durable: trim the stream behind it, keeping STREAM_KEEP entries. */
export async function trimFlushed(deps: WorkerDeps, campaignId: string, batch: FlushBatch): Promise<void> {
  await trimBelow(deps.redis, campaignId, batch.to.seq - deps.config.worker.streamKeep + 1);
}
