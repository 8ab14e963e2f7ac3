import type { EventDefinition } from '../index';
import { createReferenceRegistry, referenceRegistry } from '../index';

/** The catalogue of PROTOCOL.md: type -> [entity kind, lifecycle]. "(new)" in the protocol is `create`. */
const protocolCatalogue: Record<string, [string, 'create' | 'update' | 'destroy']> = {
  'player.moved': ['player', 'update'],
  'player.gold.changed': ['player', 'update'],
  'player.xp.gained': ['player', 'update'],
  'item.created': ['item', 'create'],
  'item.moved': ['item', 'update'],
  'item.destroyed': ['item', 'destroy'],
  'npc.spawned': ['npc', 'create'],
  'npc.damaged': ['npc', 'update'],
  'npc.defeated': ['npc', 'update'],
  'quest.started': ['quest', 'update'],
  'quest.progressed': ['quest', 'update'],
  'quest.completed': ['quest', 'update'],
  'world.flag.set': ['world', 'update'],
  'world.event.started': ['worldEvent', 'create'],
  'world.event.ended': ['worldEvent', 'update'],
  'combat.started': ['combat', 'create'],
  'combat.action': ['combat', 'update'],
  'combat.ended': ['combat', 'update'],
  'dialogue.started': ['dialogue', 'create'],
  'dialogue.choice': ['dialogue', 'update'],
  'dialogue.ended': ['dialogue', 'update'],
};

const definitions = (): EventDefinition[] =>
  referenceRegistry.eventTypes().map((type) => referenceRegistry.event(type)!);

describe('the reference catalogue', () => {
  it('holds exactly the event types of the protocol, each on its entity kind with its lifecycle', () => {
    const actual = Object.fromEntries(definitions().map((d) => [d.type, [d.entityKind, d.lifecycle]]));
    expect(actual).toEqual(protocolCatalogue);
  });

  it('holds exactly the entity kinds of the protocol', () => {
    expect(referenceRegistry.kindNames().sort()).toEqual(
      ['combat', 'dialogue', 'item', 'npc', 'player', 'quest', 'region', 'world', 'worldEvent'].sort(),
    );
  });

  it('marks only quest.completed as major', () => {
    expect(
      definitions()
        .filter((d) => d.major)
        .map((d) => d.type),
    ).toEqual(['quest.completed']);
  });

  it('makes only combat.* and dialogue.* events transient', () => {
    const transient = definitions()
      .filter((d) => d.persistence === 'transient')
      .map((d) => d.type);
    expect(transient.sort()).toEqual(
      Object.keys(protocolCatalogue)
        .filter((type) => type.startsWith('combat.') || type.startsWith('dialogue.'))
        .sort(),
    );
  });

  it('makes only the combat and dialogue kinds transient', () => {
    const transient = referenceRegistry
      .kindNames()
      .filter((k) => referenceRegistry.kind(k)!.persistence === 'transient');
    expect(transient.sort()).toEqual(['combat', 'dialogue']);
  });

  it('builds an equal, independent registry each time it is created', () => {
    const fresh = createReferenceRegistry();
    expect(fresh).not.toBe(referenceRegistry);
    expect(fresh.eventTypes()).toEqual(referenceRegistry.eventTypes());
    expect(fresh.kindNames()).toEqual(referenceRegistry.kindNames());
  });
});
