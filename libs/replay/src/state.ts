import type { DomainRegistry, Entity } from '@lorekeeper/domain';
import { evolve, referenceRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import type { Redis, StreamEvent } from '@lorekeeper/redis-store';
import { readStreamRange } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { ReplayOptions } from './history';
import { applyArchived, replayTo } from './history';

export interface StateEntity {
  readonly entity: Entity;
  /** A transient entity, folded only from the events still in the stream's window. */
  readonly transient: boolean;
}

export interface StateAt {
  readonly campaignId: string;
  /** The seq asked for. */
  readonly requestedSeq: number;
  /** The seq the state is at: the one asked for, unless the log ends before it. */
  readonly seq: number;
  readonly checkpointSeq: number;
  /** The snapshot the fold started from. */
  readonly base: { readonly name: string; readonly seq: number };
  readonly archivedFolded: number;
  readonly streamFolded: number;
  /** Transient entities whose start fell before the stream's window, so their state is unknown. */
  readonly transientIncomplete: readonly string[];
  readonly entities: readonly StateEntity[];
}

export interface StateOptions extends ReplayOptions {
  /** Read the live stream past the checkpoint (and transient events) from this Redis. */
  readonly redis?: Redis;
}

/**
 * The campaign's state right after event `atSeq`: the durable fold from the nearest snapshot (see
 * replayTo), carried on through the live stream past the checkpoint, plus the transient entities that
 * the stream's window can rebuild, marked as such. Entities are in id order.
 */
export async function stateAt(
  db: Kysely<Database>,
  campaignId: string,
  atSeq: number,
  options: StateOptions = {},
): Promise<StateAt> {
  const registry = options.registry ?? referenceRegistry;
  const durable = await replayTo(db, campaignId, atSeq, options);
  const state = durable.state;
  const transient = new Map<string, Entity>();
  const incomplete = new Set<string>();
  let streamFolded = 0;
  let seq = durable.seq;
  if (options.redis) {
    // The stream's whole window up to atSeq: transient entities may have begun before the checkpoint.
    for await (const page of readWindow(options.redis, campaignId, atSeq)) {
      for (const event of page) {
        seq = Math.max(seq, event.seq);
        if (options.entityId !== undefined && event.entityId !== options.entityId) continue;
        if (registry.event(event.type)?.persistence === 'transient')
          foldTransient(transient, incomplete, event, registry);
        else if (event.seq > durable.checkpointSeq) {
          applyArchived(state, event, registry);
          streamFolded += 1;
        }
      }
    }
  }
  const entities: StateEntity[] = [
    ...[...state.values()].map((entity) => ({ entity, transient: false })),
    ...[...transient.values()].map((entity) => ({ entity, transient: true })),
  ].sort((a, b) => (a.entity.id < b.entity.id ? -1 : a.entity.id > b.entity.id ? 1 : 0));
  return {
    campaignId,
    requestedSeq: atSeq,
    seq,
    checkpointSeq: durable.checkpointSeq,
    base: { name: durable.base.name, seq: durable.base.seq },
    archivedFolded: durable.folded,
    streamFolded,
    transientIncomplete: [...incomplete].sort(),
    entities,
  };
}

/** The stream's entries with seq <= atSeq, oldest first, in pages. */
async function* readWindow(redis: Redis, campaignId: string, atSeq: number): AsyncGenerator<StreamEvent[]> {
  for (let from = 1; from <= atSeq;) {
    const page = await readStreamRange(redis, campaignId, from, atSeq, 10_000);
    if (page.length > 0) yield page;
    if (page.length < 10_000) return;
    from = (page[page.length - 1] as StreamEvent).seq + 1;
  }
}

/** Fold a transient event leniently: one whose entity began before the window marks it incomplete. */
function foldTransient(
  transient: Map<string, Entity>,
  incomplete: Set<string>,
  event: StreamEvent,
  registry: DomainRegistry,
): void {
  if (incomplete.has(event.entityId)) return;
  try {
    const next = evolve(transient.get(event.entityId), event, registry);
    if (next) transient.set(event.entityId, next);
    else transient.delete(event.entityId);
  } catch {
    transient.delete(event.entityId);
    incomplete.add(event.entityId);
  }
}
