import type { z } from 'zod';
import { kindOf } from '../ids';
import type { EntityKindDefinition, Lifecycle, Reference } from '../registry';
import { DomainRegistry } from '../registry';
import type { ReferenceEvent, ReferenceEventType } from './event-data';
import { eventData } from './event-data';
import { evolveReference } from './evolve';
import * as states from './states';

const none = (): readonly Reference[] => [];
const nowhere = (): null => null;
const ANY_KIND: readonly string[] = [];

/** Erase a kind's state type once its callbacks have been checked against its schema. */
function defineKind<S>(definition: EntityKindDefinition<S>): EntityKindDefinition {
  return definition as unknown as EntityKindDefinition;
}

const kinds: EntityKindDefinition[] = [
  defineKind({
    kind: 'region',
    persistence: 'persistent',
    state: states.regionState,
    regionOf: nowhere,
    ownerOf: nowhere,
    references: (s: states.RegionState) =>
      s.neighbors.map((id, i) => ({ field: `neighbors.${i}`, id, kinds: ['region'] })),
  }),
  defineKind({
    kind: 'player',
    persistence: 'persistent',
    state: states.playerState,
    regionOf: (s: states.PlayerState) => s.regionId,
    ownerOf: nowhere,
    references: (s: states.PlayerState) => [{ field: 'regionId', id: s.regionId, kinds: ['region'] }],
  }),
  defineKind({
    kind: 'npc',
    persistence: 'persistent',
    state: states.npcState,
    regionOf: (s: states.NpcState) => s.regionId,
    ownerOf: nowhere,
    references: (s: states.NpcState) => [{ field: 'regionId', id: s.regionId, kinds: ['region'] }],
  }),
  defineKind({
    kind: 'item',
    persistence: 'persistent',
    state: states.itemState,
    // An item lying on the ground stands in its region; a held item goes where its holder goes.
    regionOf: (s: states.ItemState) => (kindOf(s.ownerId) === 'region' ? s.ownerId : null),
    ownerOf: (s: states.ItemState) => s.ownerId,
    references: (s: states.ItemState) => [
      { field: 'ownerId', id: s.ownerId, kinds: states.ITEM_HOLDER_KINDS },
    ],
  }),
  defineKind({
    kind: 'quest',
    persistence: 'persistent',
    state: states.questState,
    regionOf: (s: states.QuestState) => s.regionId,
    ownerOf: (s: states.QuestState) => s.playerId,
    references: (s: states.QuestState) => [
      { field: 'regionId', id: s.regionId, kinds: ['region'] },
      ...(s.playerId === null ? [] : [{ field: 'playerId', id: s.playerId, kinds: ['player'] }]),
    ],
  }),
  defineKind({
    kind: 'world',
    persistence: 'persistent',
    state: states.worldState,
    regionOf: nowhere,
    ownerOf: nowhere,
    references: none,
  }),
  defineKind({
    kind: 'worldEvent',
    persistence: 'persistent',
    state: states.worldEventState,
    regionOf: (s: states.WorldEventState) => s.regionId,
    ownerOf: nowhere,
    references: (s: states.WorldEventState) => [{ field: 'regionId', id: s.regionId, kinds: ['region'] }],
  }),
  defineKind({
    kind: 'combat',
    persistence: 'transient',
    state: states.combatState,
    regionOf: (s: states.CombatState) => s.regionId,
    ownerOf: nowhere,
    references: none,
  }),
  defineKind({
    kind: 'dialogue',
    persistence: 'transient',
    state: states.dialogueState,
    regionOf: nowhere,
    ownerOf: nowhere,
    references: none,
  }),
];

interface Shape {
  kind: string;
  lifecycle: Lifecycle;
  major?: boolean;
  references?: (data: never) => readonly Reference[];
}

/** Which entity each event targets, and what it does to its existence. */
const shapes: Record<ReferenceEventType, Shape> = {
  'player.moved': {
    kind: 'player',
    lifecycle: 'update',
    references: (d: { regionId: string }) => [{ field: 'regionId', id: d.regionId, kinds: ['region'] }],
  },
  'player.gold.changed': { kind: 'player', lifecycle: 'update' },
  'player.xp.gained': { kind: 'player', lifecycle: 'update' },
  'item.created': {
    kind: 'item',
    lifecycle: 'create',
    references: (d: { ownerId: string }) => [
      { field: 'ownerId', id: d.ownerId, kinds: states.ITEM_HOLDER_KINDS },
    ],
  },
  'item.moved': {
    kind: 'item',
    lifecycle: 'update',
    references: (d: { fromId: string; toId: string }) => [
      { field: 'fromId', id: d.fromId, kinds: states.ITEM_HOLDER_KINDS },
      { field: 'toId', id: d.toId, kinds: states.ITEM_HOLDER_KINDS },
    ],
  },
  'item.destroyed': { kind: 'item', lifecycle: 'destroy' },
  'npc.spawned': {
    kind: 'npc',
    lifecycle: 'create',
    references: (d: { regionId: string }) => [{ field: 'regionId', id: d.regionId, kinds: ['region'] }],
  },
  'npc.damaged': { kind: 'npc', lifecycle: 'update' },
  'npc.defeated': {
    kind: 'npc',
    lifecycle: 'update',
    references: (d: { byId: string }) => [{ field: 'byId', id: d.byId, kinds: ANY_KIND }],
  },
  'quest.started': {
    kind: 'quest',
    lifecycle: 'update',
    references: (d: { playerId: string }) => [{ field: 'playerId', id: d.playerId, kinds: ['player'] }],
  },
  'quest.progressed': { kind: 'quest', lifecycle: 'update' },
  'quest.completed': { kind: 'quest', lifecycle: 'update', major: true },
  'world.flag.set': { kind: 'world', lifecycle: 'update' },
  'world.event.started': {
    kind: 'worldEvent',
    lifecycle: 'create',
    references: (d: { regionId: string }) => [{ field: 'regionId', id: d.regionId, kinds: ['region'] }],
  },
  'world.event.ended': { kind: 'worldEvent', lifecycle: 'update' },
  'combat.started': {
    kind: 'combat',
    lifecycle: 'create',
    references: (d: { regionId: string; participantIds: string[] }) => [
      { field: 'regionId', id: d.regionId, kinds: ['region'] },
      ...d.participantIds.map((id, i) => ({ field: `participantIds.${i}`, id, kinds: ANY_KIND })),
    ],
  },
  'combat.action': {
    kind: 'combat',
    lifecycle: 'update',
    references: (d: { actorId: string; targetId?: string }) => [
      { field: 'actorId', id: d.actorId, kinds: ANY_KIND },
      ...(d.targetId === undefined ? [] : [{ field: 'targetId', id: d.targetId, kinds: ANY_KIND }]),
    ],
  },
  'combat.ended': { kind: 'combat', lifecycle: 'update' },
  'dialogue.started': {
    kind: 'dialogue',
    lifecycle: 'create',
    references: (d: { npcId: string; playerId: string }) => [
      { field: 'npcId', id: d.npcId, kinds: ['npc'] },
      { field: 'playerId', id: d.playerId, kinds: ['player'] },
    ],
  },
  'dialogue.choice': { kind: 'dialogue', lifecycle: 'update' },
  'dialogue.ended': { kind: 'dialogue', lifecycle: 'update' },
};

/** A new registry holding the reference campaign domain of PROTOCOL.md. */
export function createReferenceRegistry(): DomainRegistry {
  const registry = new DomainRegistry();
  for (const kind of kinds) registry.registerKind(kind);
  for (const type of Object.keys(shapes) as ReferenceEventType[]) {
    const shape = shapes[type];
    const kind = registry.kind(shape.kind);
    registry.registerEvent({
      type,
      entityKind: shape.kind,
      lifecycle: shape.lifecycle,
      persistence: kind?.persistence ?? 'persistent',
      major: shape.major ?? false,
      data: eventData[type] as z.ZodType<unknown>,
      references: (shape.references ?? none) as (data: unknown) => readonly Reference[],
      evolve: (state, data, entityId) => evolveReference(state, { type, entityId, data } as ReferenceEvent),
    });
  }
  return registry;
}

/** The shared, read-only reference registry. Extend it with `referenceRegistry.extend()`. */
export const referenceRegistry: DomainRegistry = createReferenceRegistry();
