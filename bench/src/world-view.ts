import type { DomainEvent, Entity, ItemState, NpcState, QuestState } from '@lorekeeper/domain';
import { evolve } from '@lorekeeper/domain';

/**
 * The load generator's own view of a campaign: every entity, folded with the same `evolve` as the
 * service, plus a few indexes so choosing a player's next action costs a handful of look-ups rather
 * than a scan of the world per turn (the bench process shares the machine with what it measures).
 */
export class WorldView {
  private readonly entities = new Map<string, Entity>();
  private readonly index = new Map<string, Set<string>>();

  constructor(entities: readonly Entity[]) {
    for (const entity of entities) this.put(entity.id, entity);
  }

  get(id: string): Entity | undefined {
    return this.entities.get(id);
  }

  /** Ids under an index key: `held:<owner>`, `npcs:<region>`, `alive:<region>`, `open:<region>`, `quests:<player>`. */
  ids(key: string): readonly string[] {
    return [...(this.index.get(key) ?? [])];
  }

  /** Apply one event; returns the entity after it (null when destroyed). Throws what `evolve` throws. */
  apply(event: DomainEvent): Entity | null {
    const next = evolve(this.entities.get(event.entityId), event);
    this.put(event.entityId, next ?? undefined);
    return next;
  }

  /** Replace what the view believes about an entity (after the service refused an append touching it). */
  put(id: string, entity: Entity | undefined): void {
    const before = this.entities.get(id);
    if (before) for (const key of indexKeys(before)) this.index.get(key)?.delete(id);
    if (!entity) {
      this.entities.delete(id);
      return;
    }
    this.entities.set(id, entity);
    for (const key of indexKeys(entity)) {
      let ids = this.index.get(key);
      if (!ids) this.index.set(key, (ids = new Set()));
      ids.add(id);
    }
  }
}

function indexKeys(entity: Entity): string[] {
  switch (entity.kind) {
    case 'item':
      return [`held:${(entity.state as ItemState).ownerId}`];
    case 'npc': {
      const npc = entity.state as NpcState;
      return npc.status === 'alive'
        ? [`npcs:${npc.regionId}`, `alive:${npc.regionId}`]
        : [`npcs:${npc.regionId}`];
    }
    case 'quest': {
      const quest = entity.state as QuestState;
      if (quest.status === 'available') return [`open:${quest.regionId}`];
      return quest.status === 'active' && quest.playerId ? [`quests:${quest.playerId}`] : [];
    }
    default:
      return [];
  }
}
