import type {
  DomainEvent,
  Entity,
  ItemState,
  NpcState,
  PlayerState,
  QuestState,
  RegionState,
} from '@lorekeeper/domain';
import { evolve, seededRandom } from '@lorekeeper/domain';

/** An event as the session service would have committed it, without its seq and meta. */
export interface PlayedEvent {
  readonly type: string;
  readonly entityId: string;
  readonly version: number;
  readonly data: Record<string, unknown>;
}

type Action = 'move' | 'gold' | 'xp' | 'trade' | 'fight' | 'dialogue' | 'quest';

/**
 * The weights of the simulated game's ACTION_MIX (apps/sim/src/player-actions.ts). Copied, not
 * imported: a benchmark may not depend on an app. The sim's playerTurn scans the whole state on every
 * turn, which a 1,000,000-entity world cannot afford; this class keeps indexes instead.
 */
const ACTION_WEIGHTS: readonly (readonly [Action, number])[] = [
  ['move', 20],
  ['gold', 20],
  ['xp', 15],
  ['trade', 10],
  ['fight', 15],
  ['dialogue', 10],
  ['quest', 10],
];

/**
 * Players acting in turn over a world, producing the events of the sim's mix: moves, gold, xp, item
 * trades, fights (transient combat plus NPC damage), dialogue (transient) and quest steps. Every event
 * is folded with the domain's `evolve` as it is made, so each is valid and carries the version the
 * session service would have given it; `state` is the world after everything played so far.
 */
export class SimulatedPlay {
  readonly state: Map<string, Entity>;
  private readonly random: () => number;
  private readonly npcsByRegion = new Map<string, string[]>();
  private readonly groundItems = new Map<string, string[]>();
  private readonly heldItems = new Map<string, string[]>();
  private readonly questsByRegion = new Map<string, string[]>();
  private readonly activeQuests = new Map<string, string[]>();
  private turn = 0;

  constructor(
    world: readonly Entity[],
    private readonly players: readonly string[],
    seed: number,
  ) {
    this.state = new Map(world.map((entity) => [entity.id, entity]));
    this.random = seededRandom(seed);
    for (const entity of world) this.index(entity);
  }

  /** One player's action (players take turns), as the events of one append. */
  nextAction(): PlayedEvent[] {
    const playerId = this.players[this.turn % this.players.length] as string;
    this.turn += 1;
    const transient = new Map<string, Entity>();
    return this.chooseEvents(playerId).map((event) => this.apply(event, transient));
  }

  /** The current value of a persistent entity (after everything played). */
  entity(id: string): Entity {
    const entity = this.state.get(id);
    if (!entity) throw new Error(`${id} is not in the simulated world`);
    return entity;
  }

  /** Fold an event made elsewhere (the all-distinct load) into the state; returns it with its version. */
  play(event: DomainEvent<Record<string, unknown>>): PlayedEvent {
    return this.apply(event, new Map());
  }

  private chooseEvents(playerId: string): DomainEvent<Record<string, unknown>>[] {
    const player = this.entity(playerId).state as PlayerState;
    const here = player.regionId;
    const xp = () => [{ type: 'player.xp.gained', entityId: playerId, data: { amount: 1 + this.below(50) } }];
    switch (this.chooseAction()) {
      case 'move': {
        const to = this.pick((this.entity(here).state as RegionState).neighbors);
        return to ? [{ type: 'player.moved', entityId: playerId, data: { regionId: to } }] : xp();
      }
      case 'gold': {
        const delta =
          this.random() < 0.6 || player.gold < 10
            ? 1 + this.below(20)
            : -(1 + this.below(Math.min(20, player.gold)));
        return [{ type: 'player.gold.changed', entityId: playerId, data: { delta } }];
      }
      case 'xp':
        return xp();
      case 'trade': {
        const held = this.random() < 0.5;
        const itemId = this.pick(
          held ? this.list(this.heldItems, playerId) : this.list(this.groundItems, here),
        );
        if (!itemId) return xp();
        const [fromId, toId] = held ? [playerId, here] : [here, playerId];
        return [{ type: 'item.moved', entityId: itemId, data: { fromId, toId } }];
      }
      case 'fight':
        return this.fight(playerId, here) ?? xp();
      case 'dialogue': {
        const npcId = this.pick(this.list(this.npcsByRegion, here));
        if (!npcId) return xp();
        const dialogueId = `dialogue:${playerId.slice('player:'.length)}-${this.turn}`;
        return [
          { type: 'dialogue.started', entityId: dialogueId, data: { npcId, playerId } },
          { type: 'dialogue.choice', entityId: dialogueId, data: { choiceId: `c${this.below(4)}` } },
          { type: 'dialogue.ended', entityId: dialogueId, data: {} },
        ];
      }
      case 'quest':
        return this.questStep(playerId, here) ?? xp();
    }
  }

  private fight(playerId: string, regionId: string): DomainEvent<Record<string, unknown>>[] | undefined {
    const alive = this.list(this.npcsByRegion, regionId).filter(
      (id) => (this.entity(id).state as NpcState).status === 'alive',
    );
    const npcId = this.pick(alive);
    if (!npcId) return undefined;
    const combatId = `combat:${playerId.slice('player:'.length)}-${this.turn}`;
    const amount = 1 + this.below(30);
    const defeats = amount >= (this.entity(npcId).state as NpcState).hp;
    return [
      { type: 'combat.started', entityId: combatId, data: { regionId, participantIds: [playerId, npcId] } },
      {
        type: 'combat.action',
        entityId: combatId,
        data: { actorId: playerId, action: 'strike', targetId: npcId, amount },
      },
      { type: 'npc.damaged', entityId: npcId, data: { amount } },
      ...(defeats ? [{ type: 'npc.defeated', entityId: npcId, data: { byId: playerId } }] : []),
      { type: 'combat.ended', entityId: combatId, data: { outcome: defeats ? 'victory' : 'retreat' } },
    ];
  }

  private questStep(playerId: string, regionId: string): DomainEvent<Record<string, unknown>>[] | undefined {
    const activeId = this.pick(this.list(this.activeQuests, playerId));
    if (activeId) {
      const quest = this.entity(activeId).state as QuestState;
      return quest.step >= 3
        ? [{ type: 'quest.completed', entityId: activeId, data: {} }]
        : [{ type: 'quest.progressed', entityId: activeId, data: { step: quest.step + 1 } }];
    }
    const open = this.list(this.questsByRegion, regionId).filter(
      (id) => (this.entity(id).state as QuestState).status === 'available',
    );
    const questId = this.pick(open);
    return questId ? [{ type: 'quest.started', entityId: questId, data: { playerId } }] : undefined;
  }

  /** Fold one event (throws if it does not apply) and keep the indexes in step. */
  private apply(event: DomainEvent<Record<string, unknown>>, transient: Map<string, Entity>): PlayedEvent {
    const isTransient = event.entityId.startsWith('combat:') || event.entityId.startsWith('dialogue:');
    const store = isTransient ? transient : this.state;
    const before = store.get(event.entityId);
    const after = evolve(before, event);
    if (!after) throw new Error(`${event.type} destroyed ${event.entityId}; the mix never destroys`);
    store.set(after.id, after);
    if (!isTransient) this.reindex(before, after);
    return { type: event.type, entityId: event.entityId, version: after.version, data: event.data };
  }

  private index(entity: Entity): void {
    switch (entity.kind) {
      case 'npc':
        this.list(this.npcsByRegion, (entity.state as NpcState).regionId).push(entity.id);
        break;
      case 'item': {
        const ownerId = (entity.state as ItemState).ownerId;
        if (ownerId.startsWith('region:')) this.list(this.groundItems, ownerId).push(entity.id);
        if (ownerId.startsWith('player:')) this.list(this.heldItems, ownerId).push(entity.id);
        break;
      }
      case 'quest': {
        const quest = entity.state as QuestState;
        this.list(this.questsByRegion, quest.regionId).push(entity.id);
        if (quest.status === 'active' && quest.playerId)
          this.list(this.activeQuests, quest.playerId).push(entity.id);
        break;
      }
      default:
        break;
    }
  }

  /** Items change hands and quests start or finish; NPCs and quests never change region. */
  private reindex(before: Entity | undefined, after: Entity): void {
    if (after.kind === 'item') {
      this.unlist(this.groundItems, this.heldItems, (before?.state as ItemState).ownerId, after.id);
      this.index(after);
    } else if (after.kind === 'quest') {
      const quest = after.state as QuestState;
      const active = this.list(this.activeQuests, quest.playerId ?? '');
      if (quest.status === 'active' && !active.includes(after.id)) active.push(after.id);
      const at = active.indexOf(after.id);
      if (quest.status === 'completed' && at >= 0) active.splice(at, 1);
    }
  }

  private unlist(
    ground: Map<string, string[]>,
    held: Map<string, string[]>,
    ownerId: string,
    itemId: string,
  ): void {
    const list = ownerId.startsWith('region:') ? ground.get(ownerId) : held.get(ownerId);
    const at = list?.indexOf(itemId) ?? -1;
    if (list && at >= 0) list.splice(at, 1);
  }

  private list(map: Map<string, string[]>, key: string): string[] {
    let list = map.get(key);
    if (!list) map.set(key, (list = []));
    return list;
  }

  private chooseAction(): Action {
    let roll = this.random() * 100;
    for (const [action, weight] of ACTION_WEIGHTS) {
      roll -= weight;
      if (roll < 0) return action;
    }
    return 'xp';
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items[this.below(items.length)];
  }

  private below(n: number): number {
    return Math.floor(this.random() * n);
  }
}
