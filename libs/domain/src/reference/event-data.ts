import { z } from 'zod';
import { entityId, entityIdOf, flagKey, jsonValue, name, positiveInt, shortText } from '../schema';
import { ITEM_HOLDER_KINDS } from './states';

/** The `data` of every event type in the reference catalogue, strict: unknown fields are refused. */
export const eventData = {
  'player.moved': z.strictObject({ regionId: entityIdOf('region') }),
  'player.gold.changed': z.strictObject({
    delta: z.int().refine((delta) => delta !== 0, { message: 'must not be 0' }),
  }),
  'player.xp.gained': z.strictObject({ amount: positiveInt }),
  'item.created': z.strictObject({ name, ownerId: entityIdOf(...ITEM_HOLDER_KINDS), qty: z.int().min(1) }),
  'item.moved': z.strictObject({
    fromId: entityIdOf(...ITEM_HOLDER_KINDS),
    toId: entityIdOf(...ITEM_HOLDER_KINDS),
  }),
  'item.destroyed': z.strictObject({}),
  'npc.spawned': z.strictObject({ name, regionId: entityIdOf('region'), hp: positiveInt }),
  'npc.damaged': z.strictObject({ amount: positiveInt }),
  'npc.defeated': z.strictObject({ byId: entityId }),
  'quest.started': z.strictObject({ playerId: entityIdOf('player') }),
  'quest.progressed': z.strictObject({ step: z.int() }),
  'quest.completed': z.strictObject({}),
  'world.flag.set': z.strictObject({ key: flagKey, value: jsonValue }),
  'world.event.started': z.strictObject({ kind: shortText, regionId: entityIdOf('region') }),
  'world.event.ended': z.strictObject({}),
  'combat.started': z.strictObject({
    regionId: entityIdOf('region'),
    participantIds: z
      .array(entityId)
      .min(1)
      .max(64)
      .refine((ids) => new Set(ids).size === ids.length, { message: 'must not repeat an id' }),
  }),
  'combat.action': z.strictObject({
    actorId: entityId,
    action: shortText,
    targetId: entityId.optional(),
    amount: z.int().nonnegative().optional(),
  }),
  'combat.ended': z.strictObject({ outcome: shortText }),
  'dialogue.started': z.strictObject({ npcId: entityIdOf('npc'), playerId: entityIdOf('player') }),
  'dialogue.choice': z.strictObject({ choiceId: shortText }),
  'dialogue.ended': z.strictObject({}),
} as const;

export type ReferenceEventType = keyof typeof eventData;

/** The reference catalogue as a discriminated union on `type`. */
export type ReferenceEvent = {
  [T in ReferenceEventType]: {
    readonly type: T;
    readonly entityId: string;
    readonly data: z.infer<(typeof eventData)[T]>;
  };
}[ReferenceEventType];

export type ReferenceEventOf<T extends ReferenceEventType> = Extract<ReferenceEvent, { type: T }>;
