import { validationFailed } from '../errors';
import type { ReferenceEvent } from './event-data';
import type {
  CombatState,
  DialogueState,
  ItemState,
  NpcState,
  PlayerState,
  QuestState,
  WorldEventState,
  WorldState,
} from './states';

export const MAX_DIALOGUE_CHOICES = 256;

/**
 * What each reference event does to its entity's state: the one definition of the catalogue's effects
 * and of the rules that depend on the entity itself. The engine has already checked the event's shape,
 * that the entity exists (or, for a create, that it does not) and that the references exist.
 * `state` is undefined for create events. Pure: no I/O, no clock.
 */
export function evolveReference(state: unknown, event: ReferenceEvent): unknown {
  switch (event.type) {
    case 'player.moved': {
      const player = state as PlayerState;
      return { ...player, regionId: event.data.regionId };
    }
    case 'player.gold.changed': {
      const player = state as PlayerState;
      const gold = player.gold + event.data.delta;
      if (gold < 0) {
        throw validationFailed(
          `${event.entityId} has ${player.gold} gold; a change of ${event.data.delta} would leave ${gold}`,
          { entityId: event.entityId, gold: player.gold, delta: event.data.delta },
        );
      }
      if (!Number.isSafeInteger(gold)) {
        throw validationFailed(`${event.entityId} gold would exceed ${Number.MAX_SAFE_INTEGER}`, {
          entityId: event.entityId,
        });
      }
      return { ...player, gold };
    }
    case 'player.xp.gained': {
      const player = state as PlayerState;
      const xp = player.xp + event.data.amount;
      if (!Number.isSafeInteger(xp)) {
        throw validationFailed(`${event.entityId} xp would exceed ${Number.MAX_SAFE_INTEGER}`, {
          entityId: event.entityId,
        });
      }
      return { ...player, xp };
    }
    case 'item.created':
      return { name: event.data.name, ownerId: event.data.ownerId, qty: event.data.qty } satisfies ItemState;
    case 'item.moved': {
      const item = state as ItemState;
      if (item.ownerId !== event.data.fromId) {
        throw validationFailed(`${event.entityId} is held by ${item.ownerId}, not by ${event.data.fromId}`, {
          entityId: event.entityId,
          expectedOwner: event.data.fromId,
          actualOwner: item.ownerId,
        });
      }
      return { ...item, ownerId: event.data.toId };
    }
    case 'item.destroyed':
      return state;
    case 'npc.spawned':
      return {
        name: event.data.name,
        regionId: event.data.regionId,
        hp: event.data.hp,
        status: 'alive',
      } satisfies NpcState;
    case 'npc.damaged': {
      const npc = state as NpcState;
      return { ...npc, hp: Math.max(0, npc.hp - event.data.amount) };
    }
    case 'npc.defeated': {
      const npc = state as NpcState;
      return { ...npc, hp: 0, status: 'defeated' };
    }
    case 'quest.started': {
      const quest = state as QuestState;
      if (quest.status !== 'available') {
        throw validationFailed(`${event.entityId} is ${quest.status}; only an available quest can start`, {
          entityId: event.entityId,
          status: quest.status,
        });
      }
      return { ...quest, status: 'active', playerId: event.data.playerId };
    }
    case 'quest.progressed': {
      const quest = requireActiveQuest(state, event.entityId);
      if (event.data.step <= quest.step) {
        throw validationFailed(
          `${event.entityId} is at step ${quest.step}; the next step must be greater, got ${event.data.step}`,
          { entityId: event.entityId, step: quest.step, requested: event.data.step },
        );
      }
      return { ...quest, step: event.data.step };
    }
    case 'quest.completed':
      return { ...requireActiveQuest(state, event.entityId), status: 'completed' };
    case 'world.flag.set': {
      const world = state as WorldState;
      // A fresh object with the key defined as data: never an assignment that could reach a prototype.
      return { flags: { ...world.flags, ...Object.fromEntries([[event.data.key, event.data.value]]) } };
    }
    case 'world.event.started':
      return {
        kind: event.data.kind,
        regionId: event.data.regionId,
        status: 'active',
      } satisfies WorldEventState;
    case 'world.event.ended': {
      const worldEvent = state as WorldEventState;
      return { ...worldEvent, status: 'ended' };
    }
    case 'combat.started':
      return {
        regionId: event.data.regionId,
        participantIds: [...event.data.participantIds],
        status: 'active',
        actions: 0,
        lastAction: null,
        outcome: null,
      } satisfies CombatState;
    case 'combat.action': {
      const combat = requireActive(state as CombatState, event.entityId);
      if (!combat.participantIds.includes(event.data.actorId)) {
        throw validationFailed(`${event.data.actorId} is not a participant of ${event.entityId}`, {
          entityId: event.entityId,
          actorId: event.data.actorId,
        });
      }
      return {
        ...combat,
        actions: combat.actions + 1,
        lastAction: {
          actorId: event.data.actorId,
          action: event.data.action,
          targetId: event.data.targetId ?? null,
          amount: event.data.amount ?? null,
        },
      };
    }
    case 'combat.ended':
      return {
        ...requireActive(state as CombatState, event.entityId),
        status: 'ended',
        outcome: event.data.outcome,
      };
    case 'dialogue.started':
      return {
        npcId: event.data.npcId,
        playerId: event.data.playerId,
        status: 'active',
        choices: [],
      } satisfies DialogueState;
    case 'dialogue.choice': {
      const dialogue = requireActive(state as DialogueState, event.entityId);
      if (dialogue.choices.length >= MAX_DIALOGUE_CHOICES) {
        throw validationFailed(`${event.entityId} already has ${MAX_DIALOGUE_CHOICES} choices`, {
          entityId: event.entityId,
        });
      }
      return { ...dialogue, choices: [...dialogue.choices, event.data.choiceId] };
    }
    case 'dialogue.ended':
      return { ...requireActive(state as DialogueState, event.entityId), status: 'ended' };
    default:
      return assertNever(event);
  }
}

function requireActiveQuest(state: unknown, entityId: string): QuestState {
  const quest = state as QuestState;
  if (quest.status !== 'active') {
    throw validationFailed(`${entityId} is ${quest.status}; expected an active quest`, {
      entityId,
      status: quest.status,
    });
  }
  return quest;
}

function requireActive<S extends { status: string }>(state: S, entityId: string): S {
  if (state.status !== 'active') {
    throw validationFailed(`${entityId} has ${state.status}; expected it to be active`, { entityId });
  }
  return state;
}

function assertNever(value: never): never {
  throw new Error(`unhandled event ${JSON.stringify(value)}`);
}
