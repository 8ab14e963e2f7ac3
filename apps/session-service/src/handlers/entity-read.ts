import type { Entity } from '@lorekeeper/domain';
import { LorekeeperError, encodeEntity, kindOf } from '@lorekeeper/domain';
import { findEntity } from '@lorekeeper/pg-store';
import type {
  EntitiesListReply,
  EntitiesListRequest,
  EntityGetReply,
  EntityGetRequest,
} from '@lorekeeper/protocol';
import { ABSENT, listLive, loadLiveEntities, readLive, readSession } from '@lorekeeper/redis-store';
import type { SessionDeps } from '../deps';

/**
 * `campaign.<id>.entity.get`: the live state; an entity that is not live is read from Postgres and,
 * while a session is active, made live.
 */
export async function getEntity(
  deps: SessionDeps,
  campaignId: string,
  request: EntityGetRequest,
): Promise<EntityGetReply> {
  const { entityId } = request;
  const transient = deps.registry.kind(kindOf(entityId))?.persistence === 'transient';
  const read = (await readLive(deps.redis, campaignId, [entityId], () => transient)).get(entityId);
  if (read?.entity) return { entity: read.entity };
  // A tombstone means it was destroyed and Postgres has not caught up: it does not exist.
  if (transient || (read && read.token !== ABSENT)) throw notFound(entityId, campaignId);

  const durable = await findEntity(deps.db, campaignId, entityId);
  if (!durable) throw notFound(entityId, campaignId);
  const session = await readSession(deps.redis, campaignId);
  if (session?.status === 'active')
    await loadLiveEntities(deps.redis, campaignId, session.id, [encodeEntity(durable)]);
  return { entity: durable };
}

/** `campaign.<id>.entities.list`: live entities only, filtered by kind, region and owner. */
export async function listEntities(
  deps: SessionDeps,
  campaignId: string,
  request: EntitiesListRequest,
): Promise<EntitiesListReply> {
  const entities = (await listLive(deps.redis, campaignId)).filter((entity) =>
    matches(deps, entity, request),
  );
  entities.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { entities };
}

function matches(deps: SessionDeps, entity: Entity, filter: EntitiesListRequest): boolean {
  if (filter.kind !== undefined && entity.kind !== filter.kind) return false;
  const definition = deps.registry.kind(entity.kind);
  if (filter.regionId !== undefined && definition?.regionOf(entity.state) !== filter.regionId) return false;
  if (filter.ownerId !== undefined && definition?.ownerOf(entity.state) !== filter.ownerId) return false;
  return true;
}

function notFound(entityId: string, campaignId: string): LorekeeperError {
  return new LorekeeperError(
    'UNKNOWN_ENTITY',
    `${entityId} exists neither live nor in Postgres for campaign ${campaignId}`,
    {
      entityId,
    },
  );
}
