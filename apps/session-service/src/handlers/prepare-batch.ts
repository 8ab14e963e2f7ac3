import type { DomainEvent, Entity, EventMeta } from '@lorekeeper/domain';
import {
  LorekeeperError,
  checkReferences,
  definitionOf,
  evolve,
  kindOf,
  nextVersion,
  referencesOf,
} from '@lorekeeper/domain';
import { findEntities } from '@lorekeeper/pg-store';
import type { EntityWrite, EventWrite } from '@lorekeeper/redis-store';
import type { LiveEntity } from '@lorekeeper/redis-store';
import {
  ABSENT,
  liveToken,
  readHeadSeq,
  readLive,
  readSession,
  tombstoneToken,
} from '@lorekeeper/redis-store';
import type { SessionDeps } from '../deps';
import type { CachedEntity } from '../live-cache';

/** A batch validated against current state and ready for the compare-and-set commit. */
export interface PreparedBatch {
  readonly writes: readonly EntityWrite[];
  readonly events: readonly (EventWrite & { readonly transient: boolean })[];
  /** True when the batch holds a major event: the reply waits for Postgres. */
  readonly major: boolean;
}

/**
 * Validate a batch and compute every new state with the domain's `evolve`, against the live state
 * (this process's LiveCache when it holds every entity the batch names, counting a transient one it
 * has not seen as absent; else, and always for a retry after a lost compare-and-set, Redis), falling
 * back to Postgres for entities that are not live. Each entity read is recorded with its version token so the
 * commit can check nothing changed in between. Throws the domain's coded errors; changes nothing. A
 * batch refused against cached state is validated again against Redis, so a refusal always reflects
 * the current state and session.
 */
export async function prepareBatch(
  deps: SessionDeps,
  campaignId: string,
  events: readonly DomainEvent[],
  meta: EventMeta,
  useCache = true,
): Promise<PreparedBatch> {
  const ids = new Set<string>();
  for (const event of events) {
    ids.add(event.entityId);
    for (const reference of referencesOf(event, deps.registry)) ids.add(reference.id);
  }
  // A retry after a lost compare-and-set skips the cache: its guess was what lost.
  if (useCache) {
    const cached = deps.liveCache.lookup(campaignId, meta.sessionId, [...ids], (id) =>
      isTransientId(deps, id),
    );
    if (!cached) {
      deps.metrics.liveCacheLookups.inc({ outcome: 'miss' });
    } else {
      try {
        const prepared = await validate(deps, campaignId, events, meta, cached);
        deps.metrics.liveCacheLookups.inc({ outcome: 'hit' });
        return prepared;
      } catch {
        // Perhaps only the cache was behind: decide against Redis.
        deps.metrics.liveCacheLookups.inc({ outcome: 'stale' });
      }
    }
  }
  return validate(deps, campaignId, events, meta, await readCurrent(deps, campaignId, meta.sessionId, ids));
}

/** The named entities as Redis holds them, after checking the session; remembered in the LiveCache. */
async function readCurrent(
  deps: SessionDeps,
  campaignId: string,
  sessionId: string,
  ids: ReadonlySet<string>,
): Promise<Map<string, LiveEntity>> {
  const isTransient = (id: string) => isTransientId(deps, id);
  // Issued together, so ioredis sends them in one round trip; the head is read last, so the entities
  // are no newer than it.
  const [session, live, head] = await Promise.all([
    readSession(deps.redis, campaignId),
    readLive(deps.redis, campaignId, [...ids], isTransient),
    readHeadSeq(deps.redis, campaignId),
  ]);
  // An append for a session that is not the active one is refused as such, whatever its events say
  // (the commit re-checks this atomically).
  if (!session || session.id !== sessionId) {
    throw new LorekeeperError(
      'SESSION_NOT_FOUND',
      `session ${sessionId} is not the active session of campaign ${campaignId}`,
    );
  }
  if (session.status === 'closing') {
    throw new LorekeeperError(
      'SESSION_CLOSING',
      `campaign ${campaignId} is ending its session; the append was not applied`,
    );
  }
  // What was read is current at `head`: a Redis that later comes back below it is stale (SeqFloors).
  deps.seqFloors.raise(campaignId, head);
  deps.liveCache.remember(campaignId, sessionId, live);
  return live;
}

function isTransientId(deps: SessionDeps, id: string): boolean {
  return deps.registry.kind(kindOf(id))?.persistence === 'transient';
}

async function validate(
  deps: SessionDeps,
  campaignId: string,
  events: readonly DomainEvent[],
  meta: EventMeta,
  live: ReadonlyMap<string, CachedEntity>,
): Promise<PreparedBatch> {
  const notLive = [...live].filter(([, read]) => read.token === ABSENT && !read.transient).map(([id]) => id);
  const durable = notLive.length === 0 ? [] : await findEntities(deps.db, campaignId, notLive);

  const current = new Map<string, Entity | undefined>();
  for (const [id, read] of live) current.set(id, read.entity);
  const fromPostgres = new Set<string>();
  for (const entity of durable) {
    current.set(entity.id, entity);
    fromPostgres.add(entity.id);
  }

  const touched = new Map<string, number>();
  const eventWrites: (EventWrite & { transient: boolean })[] = [];
  let major = false;
  for (const event of events) {
    checkReferences(event, (id) => current.get(id), deps.registry);
    const target = current.get(event.entityId);
    const next = evolve(target, event, deps.registry);
    const version = nextVersion(target);
    current.set(event.entityId, next ?? undefined);
    touched.set(event.entityId, version);
    const definition = definitionOf(event, deps.registry);
    major ||= definition.major;
    eventWrites.push({
      type: event.type,
      entityId: event.entityId,
      version,
      data: event.data,
      meta,
      transient: definition.persistence === 'transient',
    });
  }

  const writes: EntityWrite[] = [];
  for (const [id, read] of live) {
    const entity = current.get(id);
    const lastVersion = touched.get(id);
    if (lastVersion !== undefined) {
      const newToken = entity ? liveToken(entity.version) : tombstoneToken(lastVersion);
      writes.push({
        entityId: id,
        transient: read.transient,
        expectedToken: read.token,
        newToken,
        entity: entity ?? null,
        ...(entity ? { json: JSON.stringify(entity) } : {}),
        ...predictedJson(read),
      });
    } else if (fromPostgres.has(id) && entity) {
      // Only referenced, and not live yet: make it live with its durable state.
      writes.push({
        entityId: id,
        transient: false,
        expectedToken: ABSENT,
        newToken: liveToken(entity.version),
        entity,
        json: JSON.stringify(entity),
      });
    } else {
      writes.push({
        entityId: id,
        transient: read.transient,
        expectedToken: read.token,
        newToken: read.token,
        entity: entity ?? null,
        ...predictedJson(read),
      });
    }
  }
  return { writes, events: eventWrites, major };
}

/** An entity validated against a commit still in flight is checked by content too (`predict`). */
function predictedJson(read: CachedEntity): { predictedJson?: string } {
  return read.predicted ? { predictedJson: read.predicted } : {};
}
