import type { DomainRegistry, Entity } from '@lorekeeper/domain';
import { evolve, isLorekeeperError, referenceRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import { inReadSnapshot, readCheckpoint, streamEntities } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import { readLiveCopy, readSession } from '@lorekeeper/redis-store';
import type { Kysely } from 'kysely';
import type { EntityMismatch } from './compare';
import { compareStates } from './compare';
import type { Replayed, ReplayOptions } from './history';
import { replayTo } from './history';

/** What one store was checked against, and every entity where it disagrees with the log. */
export interface StoreCheck {
  /** The seq the store's state was compared at (the checkpoint for Postgres, the head for Redis). */
  readonly seq: number;
  /** Events folded to build the expected state. */
  readonly eventsFolded: number;
  readonly entitiesCompared: number;
  readonly mismatches: readonly EntityMismatch[];
  /** The log itself could not be folded (an event that does not apply): the check could not finish. */
  readonly error?: string;
}

export interface VerifyReport {
  readonly campaignId: string;
  readonly ok: boolean;
  readonly postgres: StoreCheck;
  /** Absent when the campaign has no live session in Redis. */
  readonly redis?: StoreCheck;
}

export interface VerifyOptions extends Pick<ReplayOptions, 'onProgress' | 'onSnapshotRows'> {
  readonly registry?: DomainRegistry;
  /** Also compare Redis at the stream head when a session is live. */
  readonly redis?: Redis;
}

/**
 * Fold every archived event from the campaign's first snapshot (never a later one: those are copies of
 * the entities table, faults and all) and compare the result with Postgres at
 * its checkpoint, entity by entity, in one REPEATABLE READ snapshot so the worker may keep committing.
 * With `redis` and a live session, also fold the stream past the checkpoint and compare Redis's
 * persistent live entities at the stream head. Throws CAMPAIGN_NOT_FOUND.
 */
export async function verifyCampaign(
  db: Kysely<Database>,
  campaignId: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const registry = options.registry ?? referenceRegistry;
  // The Redis copy is read before the Postgres snapshot: the checkpoint can only move forward in between,
  // and the worker trims the stream only below a checkpoint, so the copy holds every event after it.
  const live = options.redis && (await readSession(options.redis, campaignId));
  const durableBefore = live ? (await readCheckpoint(db, campaignId)).seq : 0;
  const copy =
    live && options.redis ? await readLiveCopy(options.redis, campaignId, durableBefore + 1) : undefined;

  return inReadSnapshot(db, async (reader) => {
    const durable = await foldDurable(reader, campaignId, registry, options);
    const actual = new Map<string, Entity>();
    for await (const page of streamEntities(reader, campaignId, 5_000))
      for (const e of page) actual.set(e.id, e);
    const postgres: StoreCheck = durable.replayed
      ? {
          seq: durable.replayed.seq,
          eventsFolded: durable.replayed.folded,
          entitiesCompared: new Set([...durable.replayed.state.keys(), ...actual.keys()]).size,
          mismatches: compareStates(durable.replayed.state, actual),
        }
      : {
          seq: durable.checkpointSeq,
          eventsFolded: 0,
          entitiesCompared: 0,
          mismatches: [],
          error: durable.error ?? 'the log could not be folded',
        };
    const redis = copy && durable.replayed ? checkRedis(durable.replayed, copy, registry) : undefined;
    const ok = [postgres, redis].every((check) => !check || (check.mismatches.length === 0 && !check.error));
    return { campaignId, ok, postgres, ...(redis && { redis }) };
  });
}

async function foldDurable(
  db: Kysely<Database>,
  campaignId: string,
  registry: DomainRegistry,
  progress: Pick<ReplayOptions, 'onProgress' | 'onSnapshotRows'>,
): Promise<{ replayed?: Replayed; checkpointSeq: number; error?: string }> {
  const checkpoint = await readCheckpoint(db, campaignId);
  try {
    const { onProgress, onSnapshotRows } = progress;
    const replayed = await replayTo(db, campaignId, checkpoint.seq, {
      registry,
      fromStart: true,
      ...(onProgress && { onProgress }),
      ...(onSnapshotRows && { onSnapshotRows }),
    });
    return { replayed, checkpointSeq: checkpoint.seq };
  } catch (error) {
    if (!isLorekeeperError(error) || error.code !== 'INTERNAL') throw error;
    return { checkpointSeq: checkpoint.seq, error: error.message };
  }
}

/**
 * Redis holds the session's live set, not the whole campaign: compare every persistent entity it holds,
 * plus every one an event past the checkpoint touched (those must be live), against the durable fold
 * carried on through the stream.
 */
function checkRedis(
  durable: Replayed,
  copy: Awaited<ReturnType<typeof readLiveCopy>>,
  registry: DomainRegistry,
): StoreCheck {
  const expected = new Map(durable.state);
  const touched = new Set<string>();
  let folded = 0;
  try {
    for (const event of copy.events) {
      if (event.seq <= durable.seq || event.seq > copy.headSeq) continue;
      if (registry.event(event.type)?.persistence !== 'persistent') continue;
      const next = evolve(expected.get(event.entityId), event, registry);
      if (next) expected.set(event.entityId, next);
      else expected.delete(event.entityId);
      touched.add(event.entityId);
      folded += 1;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return { seq: copy.headSeq, eventsFolded: folded, entitiesCompared: 0, mismatches: [], error: reason };
  }
  const inScope = (id: string) => copy.tokens.has(id) || touched.has(id);
  const mismatches = compareStates(expected, copy.entities, inScope);
  const compared = new Set([...copy.tokens.keys(), ...touched]).size;
  return { seq: copy.headSeq, eventsFolded: folded, entitiesCompared: compared, mismatches };
}
