import { createSnapshot, findSnapshotAtOrBefore } from '@lorekeeper/pg-store';
import type { WorkerDeps } from './deps';

/**
 * One campaign's replay snapshots, taken by its consumer after flushes. A snapshot copies the durable
 * state into Postgres every SNAPSHOT_EVERY_EVENTS events, or every as many events as the campaign has
 * entities if that is more: a snapshot copies every entity, so this keeps its cost at no more than one
 * row per event folded, whatever the world's size, while `lorekeeper state --at` folds at most that many
 * archived events. It runs beside the folding and flushing (its own REPEATABLE READ transaction sees one
 * checkpoint and the state at it). A failed snapshot costs only replay speed: logged, and tried again
 * after the next flush.
 */
export class ReplaySnapshots {
  /** The campaign's latest snapshot; read from Postgres after the first flush. */
  private last: { readonly seq: number; readonly entityCount: number } | undefined;
  /** A snapshot being taken, beside folding and flushing. */
  private taking: Promise<void> | undefined;

  constructor(
    private readonly deps: WorkerDeps,
    private readonly campaignId: string,
  ) {}

  /** A flush made `seq` durable: take a snapshot if one is due and none is being taken. */
  afterFlush(seq: number): void {
    const every = this.deps.config.worker.snapshotEveryEvents;
    if (every === 0 || this.taking) return;
    const taking = this.takeIfDue(seq, every).finally(() => {
      if (this.taking === taking) this.taking = undefined;
    });
    this.taking = taking;
  }

  /** Resolves once no snapshot is being taken (graceful shutdown). */
  async settled(): Promise<void> {
    await this.taking;
  }

  private async takeIfDue(seq: number, every: number): Promise<void> {
    try {
      this.last ??= (await findSnapshotAtOrBefore(this.deps.db, this.campaignId, seq)) ?? {
        seq: 0,
        entityCount: 0,
      };
      if (seq - this.last.seq < Math.max(every, this.last.entityCount)) return;
      const snapshot = await createSnapshot(this.deps.db, this.campaignId, (at) => `auto-${at}`);
      this.last = snapshot;
      this.deps.logger.info(
        { campaignId: this.campaignId, seq: snapshot.seq, entities: snapshot.entityCount },
        'took a replay snapshot',
      );
    } catch (error) {
      this.deps.logger.warn({ campaignId: this.campaignId, err: error }, 'replay snapshot failed');
    }
  }
}
