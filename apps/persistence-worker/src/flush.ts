import type { Kysely } from 'kysely';
import { LorekeeperError } from '@lorekeeper/domain';
import type { Database, SyncTrigger } from '@lorekeeper/pg-store';
import {
  advanceCheckpoint,
  archiveEvents,
  deleteEntities,
  recordSync,
  upsertEntities,
} from '@lorekeeper/pg-store';
import { acknowledge, trimBelow } from '@lorekeeper/redis-store';
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
 * events archived, the flush logged, and the checkpoint advanced by compare-and-set. Either all of it
 * commits, or none (DESIGN.md, invariant 3).
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
    if (!(await advanceCheckpoint(trx, campaignId, batch.from, batch.to))) {
      throw new FencedError(campaignId, batch.from.seq);
    }
    if (!(await sessionCurrent())) throw new SessionGoneError(campaignId);
    const entitiesWritten = await upsertEntities(trx, campaignId, batch.upserts);
    const entitiesDeleted = await deleteEntities(trx, campaignId, batch.deletes);
    const eventsArchived = await archiveEvents(trx, campaignId, batch.events);
    const durationMs = performance.now() - started;
    await recordSync(trx, {
      campaignId,
      fromSeq: batch.from.seq + 1,
      toSeq: batch.to.seq,
      entitiesWritten,
      entitiesDeleted,
      eventsArchived,
      durationMs,
      trigger,
    });
    return { entitiesWritten, entitiesDeleted, eventsArchived, durationMs };
  });
}

/**
 * A consumer's flush as the worker runs it: `flushCampaign`, counted in the worker's metrics. A batch
 * that moves nothing (only redeliveries to acknowledge) writes nothing. Crash tests die here, in the
 * window between the Postgres commit and the XACK (`WORKER_CRASH_AFTER_COMMIT`).
 */
export async function commitFlush(
  deps: WorkerDeps,
  campaignId: string,
  batch: FlushBatch,
  trigger: SyncTrigger,
  sessionCurrent: () => Promise<boolean>,
): Promise<void> {
  if (batch.to.seq <= batch.from.seq) return;
  const result = await flushCampaign(deps.db, campaignId, batch, trigger, sessionCurrent);
  deps.metrics.rowsWritten.inc({ kind: 'entity' }, result.entitiesWritten + result.entitiesDeleted);
  deps.metrics.rowsWritten.inc({ kind: 'event' }, result.eventsArchived);
  if (Math.random() < deps.config.worker.crashAfterCommit) process.kill(process.pid, 'SIGKILL');
}

/** Only once the batch's checkpoint is durable: acknowledge its entries, then trim what nobody needs. */
export async function acknowledgeFlushed(
  deps: WorkerDeps,
  campaignId: string,
  batch: FlushBatch,
): Promise<void> {
  await acknowledge(deps.redis, campaignId, batch.streamIds);
  await trimBelow(deps.redis, campaignId, batch.to.seq - deps.config.worker.streamKeep + 1);
}
