import type {
  DomainEvent,
  Entity,
  ItemState,
  NpcState,
  PlayerState,
  QuestState,
  RegionState,
} from '@lorekeeper/domain';

/** A seeded source of numbers in [0, 1): the same seed plays the same game. */
export type Random = () => number;

/** What a simulated player does next, as the events of one append (valid against `state`). */
export type ActionKind = 'move' | 'gold' | 'xp' | 'trade' | 'fight' | 'dialogue' | 'quest';

/** The mix of a session of play, by weight. */
export const ACTION_MIX: readonly (readonly [ActionKind, number])[] = [
  ['move', 20],
  ['gold', 20],
  ['xp', 15],
  ['trade', 10],
  ['fight', 15],
  ['dialogue', 10],
  ['quest', 10],
];

/** An event of a turn; its data is always a plain object. */
export type TurnEvent = DomainEvent<Record<string, unknown>>;

export interface PlayerTurn {
  readonly kind: ActionKind;
  readonly events: TurnEvent[];
}

/**
 * Choose one action for `playerId` and return its events, built only from what `state` says (so they
 * validate while nobody else changed those entities). Falls back to gaining xp when the chosen action
 * has nothing to act on (no neighbour, no NPC nearby, no quest).
 */
export function playerTurn(
  state: ReadonlyMap<string, Entity>,
  playerId: string,
  random: Random,
  turn: number,
): PlayerTurn {
  const player = state.get(playerId)?.state as PlayerState | undefined;
  if (!player) throw new Error(`${playerId} is not in the simulated state`);
  const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(random() * items.length)];
  const here = [...state.values()];
  const npcsHere = here.filter((e) => e.kind === 'npc' && (e.state as NpcState).regionId === player.regionId);
  const alive = npcsHere.filter((e) => (e.state as NpcState).status === 'alive');
  const xp = (): PlayerTurn => ({
    kind: 'xp',
    events: [
      { type: 'player.xp.gained', entityId: playerId, data: { amount: 1 + Math.floor(random() * 50) } },
    ],
  });

  switch (chooseKind(random)) {
    case 'move': {
      const region = state.get(player.regionId)?.state as RegionState | undefined;
      const to = pick(region?.neighbors ?? []);
      if (!to) return xp();
      return { kind: 'move', events: [{ type: 'player.moved', entityId: playerId, data: { regionId: to } }] };
    }
    case 'gold': {
      const delta =
        random() < 0.6 || player.gold < 10
          ? 1 + Math.floor(random() * 20)
          : -(1 + Math.floor(random() * Math.min(20, player.gold)));
      return { kind: 'gold', events: [{ type: 'player.gold.changed', entityId: playerId, data: { delta } }] };
    }
    case 'xp':
      return xp();
    case 'trade': {
      const held = here.filter((e) => e.kind === 'item' && (e.state as ItemState).ownerId === playerId);
      const ground = here.filter(
        (e) => e.kind === 'item' && (e.state as ItemState).ownerId === player.regionId,
      );
      const item = random() < 0.5 ? pick(held) : pick(ground);
      if (!item) return xp();
      const from = (item.state as ItemState).ownerId;
      const to = from === playerId ? player.regionId : playerId;
      return {
        kind: 'trade',
        events: [{ type: 'item.moved', entityId: item.id, data: { fromId: from, toId: to } }],
      };
    }
    case 'fight': {
      const npc = pick(alive);
      if (!npc) return xp();
      const combatId = `combat:${playerId.slice('player:'.length)}-${turn}`;
      const hp = (npc.state as NpcState).hp;
      const amount = 1 + Math.floor(random() * 30);
      const events: TurnEvent[] = [
        {
          type: 'combat.started',
          entityId: combatId,
          data: { regionId: player.regionId, participantIds: [playerId, npc.id] },
        },
        {
          type: 'combat.action',
          entityId: combatId,
          data: { actorId: playerId, action: 'strike', targetId: npc.id, amount },
        },
        { type: 'npc.damaged', entityId: npc.id, data: { amount } },
      ];
      if (amount >= hp) events.push({ type: 'npc.defeated', entityId: npc.id, data: { byId: playerId } });
      events.push({
        type: 'combat.ended',
        entityId: combatId,
        data: { outcome: amount >= hp ? 'victory' : 'retreat' },
      });
      return { kind: 'fight', events };
    }
    case 'dialogue': {
      const npc = pick(npcsHere);
      if (!npc) return xp();
      const dialogueId = `dialogue:${playerId.slice('player:'.length)}-${turn}`;
      return {
        kind: 'dialogue',
        events: [
          { type: 'dialogue.started', entityId: dialogueId, data: { npcId: npc.id, playerId } },
          {
            type: 'dialogue.choice',
            entityId: dialogueId,
            data: { choiceId: `c${Math.floor(random() * 4)}` },
          },
          { type: 'dialogue.ended', entityId: dialogueId, data: {} },
        ],
      };
    }
    case 'quest': {
      const quests = here.filter((e) => e.kind === 'quest');
      const mine = quests.filter((e) => {
        const quest = e.state as QuestState;
        return quest.status === 'active' && quest.playerId === playerId;
      });
      const active = pick(mine);
      if (active) {
        const quest = active.state as QuestState;
        return quest.step >= 3
          ? { kind: 'quest', events: [{ type: 'quest.completed', entityId: active.id, data: {} }] }
          : {
              kind: 'quest',
              events: [{ type: 'quest.progressed', entityId: active.id, data: { step: quest.step + 1 } }],
            };
      }
      const open = pick(
        quests.filter((e) => {
          const quest = e.state as QuestState;
          return quest.status === 'available' && quest.regionId === player.regionId;
        }),
      );
      if (!open) return xp();
      return { kind: 'quest', events: [{ type: 'quest.started', entityId: open.id, data: { playerId } }] };
    }
  }
}

function chooseKind(random: Random): ActionKind {
  const total = ACTION_MIX.reduce((sum, [, weight]) => sum + weight, 0);
  let roll = random() * total;
  for (const [kind, weight] of ACTION_MIX) {
    roll -= weight;
    if (roll < 0) return kind;
  }
  return 'xp';
}
