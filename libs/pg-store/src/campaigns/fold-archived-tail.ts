import type { DomainRegistry, Entity } from '@lorekeeper/domain';
import { LorekeeperError, evolve, nextVersion, referenceRegistry } from '@lorekeeper/domain';
import type { Transaction } from 'kysely';
import type { Database } from '../database';
import { deleteEntities } from '../entities/delete-entities';
import { findEntities } from '../entities/find-entities';
import { upsertEntities } from '../entities/upsert-entities';
import { readEvents } from '../events/read-events';
import { recordSync } from '../operations/sync-log';
import type { DurablePosition } from './campaign.table';
import { advanceCheckpoint } from './checkpoint';

/**
 * Bring the entities up to where the archive ends: fold the archived events after the checkpoint into
 * the entities they touch (the domain's one `evolve`), write those, and move the checkpoint to the
 * archive's position, in the caller's transaction. The caller holds the campaign's row
 * (lockPosition 'update') and has made sure no session in Redis is folding the campaign: this is
 * what a session start does when Redis lost a campaign whose last flushes, for major events, only
 * archived (docs/architecture.md, "Major events: the archive first"). Returns the events folded.
 */
export async function foldArchivedTail(
  trx: Transaction<Database>,
  campaignId: string,
  position: DurablePosition,
  registry: DomainRegistry = referenceRegistry,
): Promise<number> {
  const { checkpoint, archived } = position;
  if (archived.seq <= checkpoint.seq) return 0;
  const started = performance.now();
  const events = await readEvents(trx, campaignId, { fromSeq: checkpoint.seq + 1, toSeq: archived.seq });
  const ids = [...new Set(events.map((event) => event.entityId))];
  const state = new Map<string, Entity | null>(ids.map((id) => [id, null]));
  for (const entity of await findEntities(trx, campaignId, ids)) state.set(entity.id, entity);
  for (const event of events) {
    const current = state.get(event.entityId) ?? undefined;
    if (event.version !== nextVersion(current)) {
      throw new LorekeeperError(
        'INTERNAL',
        `campaign ${campaignId}: archived seq ${event.seq} puts ${event.entityId} at version ${event.version}, ` +
          `but the entities at checkpoint ${checkpoint.seq} have it at ${current?.version ?? 0}`,
      );
    }
    state.set(
      event.entityId,
      evolve(current, { type: event.type, entityId: event.entityId, data: event.data }, registry),
    );
  }
  const upserts: Entity[] = [];
  const deletes: string[] = [];
  for (const [id, entity] of state) {
    if (entity) upserts.push(entity);
    else deletes.push(id);
  }
  const entitiesWritten = await upsertEntities(trx, campaignId, upserts, registry);
  const entitiesDeleted = await deleteEntities(trx, campaignId, deletes);
  if (!(await advanceCheckpoint(trx, campaignId, checkpoint, archived))) {
    throw new LorekeeperError(
      'INTERNAL',
      `campaign ${campaignId}: the checkpoint moved from seq ${checkpoint.seq} while its row was locked`,
    );
  }
  await recordSync(trx, {
    campaignId,
    fromSeq: checkpoint.seq + 1,
    toSeq: archived.seq,
    entitiesWritten,
    entitiesDeleted,
    eventsArchived: 0,
    durationMs: performance.now() - started,
    trigger: 'archived-tail',
  });
  return events.length;
}
