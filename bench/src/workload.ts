import type { Entity, PlayerState, RegionState } from '@lorekeeper/domain';
import { definitionOf, referencesOf, seededRandom } from '@lorekeeper/domain';
import { WorldView } from './world-view';

/** One event as the bench sends it, with the turn it belongs to and its entity afterwards. */
export interface BenchEvent {
  readonly type: string;
  readonly entityId: string;
  readonly data: Record<string, unknown>;
  /** Events of one turn must reach the service in order (combat.action needs combat.started). */
  readonly turn: number;
  /** The entity after this event, for contenders that store state without computing it (the ceiling). */
  readonly entity: Entity | null;
  /** A major event: Lorekeeper replies to its batch only once the worker has made it durable. */
  readonly major: boolean;
  /** Other entities the event reads (its data's references: the NPC a combat action strikes). */
  readonly reads: readonly string[];
}

/** An endless source of valid events; `forget` re-reads entities the service refused to change. */
export interface Workload {
  /**
   * The next event. `busy` says which entities have a change in flight: an ordered workload starts a
   * turn only for a player without one, and returns undefined when it finds none (every player is
   * waiting for a reply); the caller waits for one and asks again.
   */
  next(busy?: (entityId: string) => boolean): BenchEvent | undefined;
  /**
   * Whether an event waits for the requests in flight that change the entities it touches, as a game
   * server orders a player's actions: true where events depend on earlier ones (a trade in the region
   * just moved to), false where none can be refused (gold and xp gains, raced on purpose).
   */
  readonly ordered: boolean;
  forget(entityId: string, truth: Entity | undefined): void;
}

type Action = 'move' | 'gold' | 'xp' | 'trade' | 'fight' | 'dialogue' | 'quest';
type Draft = Omit<BenchEvent, 'turn' | 'entity' | 'major' | 'reads'>;

/**
 * The simulated game's mix (apps/sim ACTION_MIX, same weights), written again here because a bench
 * may not import an app. A turn is one player's action: 1 event, or 3-5 for a fight or a dialogue.
 * Like the sim, an action with nothing to act on (no neighbour, NPC or quest) becomes gaining xp, so
 * once the world's quests are done and its NPCs defeated the mix leans towards xp.
 */
export const GAME_MIX: readonly (readonly [Action, number])[] = [
  ['move', 20],
  ['gold', 20],
  ['xp', 15],
  ['trade', 10],
  ['fight', 15],
  ['dialogue', 10],
  ['quest', 10],
];

export function gameMix(world: readonly Entity[], players: readonly string[], seed: number): Workload {
  const random = seededRandom(seed);
  return turnsOf(new WorldView(world), true, (view, turn, busy) => {
    // Many players act at once, each waiting for its last action's reply: pick one that is not.
    for (let tries = 0; tries < 32; tries += 1) {
      const playerId = players[Math.floor(random() * players.length)]!;
      if (!busy(playerId)) return playerTurn(view, playerId, turn, random);
    }
    return undefined;
  });
}

/** Many events on few entities: gold and xp for `players`, spread at random. */
export function hotEntities(world: readonly Entity[], players: readonly string[], seed: number): Workload {
  const random = seededRandom(seed);
  return turnsOf(new WorldView(world), false, () => {
    const entityId = players[Math.floor(random() * players.length)]!;
    const amount = 1 + Math.floor(random() * 20);
    return random() < 0.5
      ? [{ type: 'player.gold.changed', entityId, data: { delta: amount } }]
      : [{ type: 'player.xp.gained', entityId, data: { amount } }];
  });
}

/** Turn drafts into a stream of events, folding each into the view as it is handed out. */
function turnsOf(
  view: WorldView,
  ordered: boolean,
  turnOf: (view: WorldView, turn: number, busy: (entityId: string) => boolean) => Draft[] | undefined,
): Workload {
  const queue: BenchEvent[] = [];
  let turn = 0;
  return {
    next(busy = () => false) {
      while (queue.length === 0) {
        const drafts = turnOf(view, turn + 1, busy);
        if (!drafts) return undefined;
        turn += 1;
        for (const draft of drafts) {
          const entity = view.apply(draft);
          const reads = referencesOf(draft).map((reference) => reference.id);
          queue.push({ ...draft, turn, entity, major: definitionOf(draft).major, reads });
          // A finished combat or dialogue is never touched again; keep the view from growing.
          if (draft.type.endsWith('.ended') && !draft.type.startsWith('world.'))
            view.put(draft.entityId, undefined);
        }
      }
      return queue.shift()!;
    },
    forget: (entityId, truth) => view.put(entityId, truth),
    ordered,
  };
}

function playerTurn(view: WorldView, playerId: string, turn: number, random: () => number): Draft[] {
  const player = view.get(playerId)?.state as PlayerState;
  const pick = (ids: readonly string[]) => ids[Math.floor(random() * ids.length)];
  const xp = (): Draft[] => [
    { type: 'player.xp.gained', entityId: playerId, data: { amount: 1 + Math.floor(random() * 50) } },
  ];
  const tag = `${playerId.slice('player:'.length)}-${turn}`;
  switch (chooseAction(random)) {
    case 'move': {
      const to = pick((view.get(player.regionId)?.state as RegionState | undefined)?.neighbors ?? []);
      return to ? [{ type: 'player.moved', entityId: playerId, data: { regionId: to } }] : xp();
    }
    case 'gold': {
      const spend = random() >= 0.6 && player.gold >= 10;
      const delta = spend
        ? -(1 + Math.floor(random() * Math.min(20, player.gold)))
        : 1 + Math.floor(random() * 20);
      return [{ type: 'player.gold.changed', entityId: playerId, data: { delta } }];
    }
    case 'xp':
      return xp();
    case 'trade': {
      const fromPlayer = random() < 0.5;
      const itemId = pick(view.ids(`held:${fromPlayer ? playerId : player.regionId}`));
      if (!itemId) return xp();
      const [fromId, toId] = fromPlayer ? [playerId, player.regionId] : [player.regionId, playerId];
      return [{ type: 'item.moved', entityId: itemId, data: { fromId, toId } }];
    }
    case 'fight':
      return fight(view, playerId, player.regionId, `combat:${tag}`, random);
    case 'dialogue': {
      const npcId = pick(view.ids(`npcs:${player.regionId}`));
      if (!npcId) return xp();
      const dialogueId = `dialogue:${tag}`;
      return [
        { type: 'dialogue.started', entityId: dialogueId, data: { npcId, playerId } },
        { type: 'dialogue.choice', entityId: dialogueId, data: { choiceId: `c${Math.floor(random() * 4)}` } },
        { type: 'dialogue.ended', entityId: dialogueId, data: {} },
      ];
    }
    case 'quest':
      return quest(view, playerId, player.regionId, pick) ?? xp();
  }
}

function fight(
  view: WorldView,
  playerId: string,
  regionId: string,
  combatId: string,
  random: () => number,
): Draft[] {
  const alive = view.ids(`alive:${regionId}`);
  const npcId = alive[Math.floor(random() * alive.length)];
  if (!npcId) return [{ type: 'player.xp.gained', entityId: playerId, data: { amount: 1 } }];
  const hp = (view.get(npcId)?.state as { hp: number }).hp;
  const amount = 1 + Math.floor(random() * 30);
  const defeated = amount >= hp;
  return [
    { type: 'combat.started', entityId: combatId, data: { regionId, participantIds: [playerId, npcId] } },
    {
      type: 'combat.action',
      entityId: combatId,
      data: { actorId: playerId, action: 'strike', targetId: npcId, amount },
    },
    { type: 'npc.damaged', entityId: npcId, data: { amount } },
    ...(defeated ? [{ type: 'npc.defeated', entityId: npcId, data: { byId: playerId } }] : []),
    { type: 'combat.ended', entityId: combatId, data: { outcome: defeated ? 'victory' : 'retreat' } },
  ];
}

/** Progress one of the player's quests (completing it after step 3: a major event), or start one here. */
function quest(
  view: WorldView,
  playerId: string,
  regionId: string,
  pick: (ids: readonly string[]) => string | undefined,
): Draft[] | undefined {
  const active = pick(view.ids(`quests:${playerId}`));
  if (active) {
    const step = (view.get(active)?.state as { step: number }).step;
    return step >= 3
      ? [{ type: 'quest.completed', entityId: active, data: {} }]
      : [{ type: 'quest.progressed', entityId: active, data: { step: step + 1 } }];
  }
  const open = pick(view.ids(`open:${regionId}`));
  return open ? [{ type: 'quest.started', entityId: open, data: { playerId } }] : undefined;
}

function chooseAction(random: () => number): Action {
  const total = GAME_MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [action, weight] of GAME_MIX) {
    roll -= weight;
    if (roll < 0) return action;
  }
  return 'xp';
}
