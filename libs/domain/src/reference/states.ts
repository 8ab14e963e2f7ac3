import { z } from 'zod';
import { entityIdOf, flagKey, jsonValue, name, nonNegativeInt, shortText } from '../schema';

/** Entity states of the reference domain (PROTOCOL.md, "Entity states of the reference domain"). */
export const regionState = z.strictObject({
  name,
  neighbors: z.array(entityIdOf('region')).max(64),
});

export const playerState = z.strictObject({
  name,
  regionId: entityIdOf('region'),
  gold: nonNegativeInt,
  xp: nonNegativeInt,
});

export const npcState = z.strictObject({
  name,
  regionId: entityIdOf('region'),
  hp: nonNegativeInt,
  status: z.enum(['alive', 'defeated']),
});

export const ITEM_HOLDER_KINDS = ['player', 'npc', 'region'] as const;

export const itemState = z.strictObject({
  name,
  ownerId: entityIdOf(...ITEM_HOLDER_KINDS),
  qty: z.int().min(1),
});

export const questState = z.strictObject({
  name,
  regionId: entityIdOf('region'),
  status: z.enum(['available', 'active', 'completed']),
  step: z.int(),
  playerId: entityIdOf('player').nullable(),
});

export const worldState = z.strictObject({
  flags: z.record(flagKey, jsonValue),
});

export const worldEventState = z.strictObject({
  kind: shortText,
  regionId: entityIdOf('region'),
  status: z.enum(['active', 'ended']),
});

export const combatState = z.strictObject({
  regionId: entityIdOf('region'),
  participantIds: z.array(z.string()),
  status: z.enum(['active', 'ended']),
  actions: nonNegativeInt,
  lastAction: z
    .strictObject({
      actorId: z.string(),
      action: z.string(),
      targetId: z.string().nullable(),
      amount: z.int().nullable(),
    })
    .nullable(),
  outcome: z.string().nullable(),
});

export const dialogueState = z.strictObject({
  npcId: entityIdOf('npc'),
  playerId: entityIdOf('player'),
  status: z.enum(['active', 'ended']),
  choices: z.array(z.string()),
});

export type RegionState = z.infer<typeof regionState>;
export type PlayerState = z.infer<typeof playerState>;
export type NpcState = z.infer<typeof npcState>;
export type ItemState = z.infer<typeof itemState>;
export type QuestState = z.infer<typeof questState>;
export type WorldState = z.infer<typeof worldState>;
export type WorldEventState = z.infer<typeof worldEventState>;
export type CombatState = z.infer<typeof combatState>;
export type DialogueState = z.infer<typeof dialogueState>;
