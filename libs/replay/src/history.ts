import type { DomainRegistry, Entity, RecordedEvent } from '@lorekeeper/domain';
import { LorekeeperError, evolve, referenceRegistry } from '@lorekeeper/domain';
import type { ArchivedEvent, Database, Snapshot } from '@lorekeeper/pg-store';
import {
  countEvents,
  findSnapshotAtOrBefore,
  findSnapshotEntity,
  loadSnapshotState,
  readPosition,
  readEvents,
} from '@lorekeeper/pg-store';
import type { Kysely } from 'kysely';

export interface ReplayOptions {
  readonly registry?: DomainRegistry;
  /** Replay one entity only: its row of the base snapshot and its own events (an index lookup). */
  readonly entityId?: string;
  /**
   * Fold from the campaign's first snapshot (seq 0, the created world), not the nearest one: a later
   * snapshot is copied from the entities table, so a fault in a row it copied would be in it too.
   */
  readonly fromStart?: boolean;
  /** Archived events read per query. */
  readonly pageSize?: number;
  /** Called after each page with the events folded so far and the total to fold. */
  readonly onProgress?: (folded: number, total: number) => void;
  /**
   * Called while the snapshot the fold starts from is read, after each page, with its rows read so
   * far and in all (a replay on a 1,000,000-entity world spends seconds there before folding).
   */
  readonly onSnapshotRows?: (read: number, total: number) => void;
}

export interface Replayed {
  readonly campaignId: string;
  /** The seq the state is at: the one asked for, or where the archive ends when asked for later. */
  readonly seq: number;
  /**
   * Where the campaign's archive ended when the replay read it: its checkpoint, or past it after a
   * flush for a major event. The live stream holds what comes after.
   */
  readonly checkpointSeq: number;
  /** The snapshot the fold started from. */
  readonly base: Snapshot;
  /** Archived events folded onto the base. */
  readonly folded: number;
  readonly state: Map<string, Entity>;
}

/**
 * The durable state of a campaign as it was right after event `atSeq`: the nearest snapshot at or
 * before it, with the archived events after the snapshot folded on through `evolve` (the same code the
 * services run). The archive ends at the durable checkpoint, or past it after a flush for a major event, so a
 * later `atSeq` gives the state where it ends (`seq` says which). Transient events are never archived; their entities are not in here.
 * Throws CAMPAIGN_NOT_FOUND, or INTERNAL when the campaign has no base snapshot or an archived event
 * does not apply (the archive and the snapshot disagree: a finding, not a crash).
 */
export async function replayTo(
  db: Kysely<Database>,
  campaignId: string,
  atSeq: number,
  options: ReplayOptions = {},
): Promise<Replayed> {
  const registry = options.registry ?? referenceRegistry;
  const pageSize = options.pageSize ?? 10_000;
  // The archive may reach past the checkpoint (a flush for a major event archives only).
  const archived = (await readPosition(db, campaignId)).archived;
  const seq = Math.min(atSeq, archived.seq);
  const base = await findSnapshotAtOrBefore(db, campaignId, options.fromStart ? 0 : seq);
  if (!base) {
    throw new LorekeeperError(
      'INTERNAL',
      `campaign ${campaignId} has no snapshot at or before seq ${seq} to replay from: it was created ` +
        'before Lorekeeper recorded the created world as a snapshot, so its history cannot be folded from the start',
      { campaignId, seq },
    );
  }
  let state = new Map<string, Entity>();
  if (options.entityId === undefined) state = await loadSnapshotState(db, base.id, options.onSnapshotRows);
  else {
    const entity = await findSnapshotEntity(db, base.id, options.entityId);
    if (entity) state.set(entity.id, entity);
  }

  const range = {
    fromSeq: base.seq + 1,
    toSeq: seq,
    ...(options.entityId !== undefined && { entityId: options.entityId }),
  };
  const total = options.onProgress ? await countEvents(db, campaignId, range) : 0;
  let folded = 0;
  for (let from = base.seq + 1; from <= seq;) {
    const page = await readEvents(db, campaignId, { ...range, fromSeq: from, limit: pageSize });
    for (const event of page) applyArchived(state, event, registry);
    folded += page.length;
    options.onProgress?.(folded, total);
    if (page.length < pageSize) break;
    from = (page[page.length - 1] as ArchivedEvent).seq + 1;
  }
  return { campaignId, seq, checkpointSeq: archived.seq, base, folded, state };
}

/** Fold one recorded event in place, checking the version it recorded against the fold's. */
export function applyArchived(
  state: Map<string, Entity>,
  event: RecordedEvent,
  registry: DomainRegistry = referenceRegistry,
): void {
  let next: Entity | null;
  try {
    next = evolve(state.get(event.entityId), event, registry);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new LorekeeperError(
      'INTERNAL',
      `event ${event.seq} (${event.type} on ${event.entityId}) does not apply to the replayed state: ${reason}`,
      { seq: event.seq, entityId: event.entityId },
    );
  }
  if (next && next.version !== event.version) {
    throw new LorekeeperError(
      'INTERNAL',
      `event ${event.seq} (${event.type}) recorded ${event.entityId} at version ${event.version}, ` +
        `but the replay reaches version ${next.version}`,
      { seq: event.seq, entityId: event.entityId },
    );
  }
  if (next) state.set(event.entityId, next);
  else state.delete(event.entityId);
}
