import type { Entity } from '../index';
import { given, tinyWorld } from '@lorekeeper/testing';

const fight = 'combat:ambush';
const ongoing: Entity = {
  id: fight,
  kind: 'combat',
  version: 1,
  state: {
    regionId: 'region:hills',
    participantIds: ['player:alice', 'npc:goblin'],
    status: 'active',
    actions: 0,
    lastAction: null,
    outcome: null,
  },
};
const withFight = [...tinyWorld.entities, ongoing];

const started = (participantIds: string[], regionId = 'region:hills') => ({
  type: 'combat.started',
  entityId: fight,
  data: { regionId, participantIds },
});
const action = (actorId: string, extra: { targetId?: string; amount?: number } = {}) => ({
  type: 'combat.action',
  entityId: fight,
  data: { actorId, action: 'strike', ...extra },
});
const ended = (outcome = 'victory') => ({ type: 'combat.ended', entityId: fight, data: { outcome } });

describe('combat.started', () => {
  it('creates an active combat at version 1 with its participants', () => {
    given(tinyWorld)
      .when(started(['player:alice', 'npc:goblin']))
      .then([ongoing]);
  });

  it('refuses a participant that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(started(['player:alice', 'npc:ghost']))
      .thenThrows('UNKNOWN_ENTITY', 'data.participantIds.1 of combat.started: npc:ghost does not exist');
  });

  it('refuses a participant listed twice as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(started(['player:alice', 'player:alice']))
      .thenThrows('BAD_REQUEST', 'participantIds: must not repeat an id');
  });

  it('refuses a region that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(started(['player:alice'], 'region:nowhere'))
      .thenThrows('UNKNOWN_ENTITY', 'region:nowhere does not exist');
  });
});

describe('combat.action', () => {
  it('counts the action and records it as the last one', () => {
    given(withFight)
      .when([action('npc:goblin'), action('player:alice', { targetId: 'npc:goblin', amount: 4 })])
      .then({
        [fight]: {
          version: 3,
          state: {
            status: 'active',
            actions: 2,
            lastAction: { actorId: 'player:alice', action: 'strike', targetId: 'npc:goblin', amount: 4 },
          },
        },
      });
  });

  it('refuses an actor who exists but is not a participant with VALIDATION_FAILED', () => {
    given(withFight)
      .when(action('npc:troll'))
      .thenThrows('VALIDATION_FAILED', 'npc:troll is not a participant of combat:ambush');
  });

  it('refuses an actor that does not exist with UNKNOWN_ENTITY', () => {
    given(withFight)
      .when(action('player:zed'))
      .thenThrows('UNKNOWN_ENTITY', 'data.actorId of combat.action: player:zed does not exist');
  });

  it('refuses a target that does not exist with UNKNOWN_ENTITY', () => {
    given(withFight)
      .when(action('player:alice', { targetId: 'npc:ghost' }))
      .thenThrows('UNKNOWN_ENTITY', 'data.targetId of combat.action: npc:ghost does not exist');
  });

  it('refuses an action after the combat ended with VALIDATION_FAILED', () => {
    given(withFight)
      .when([ended(), action('player:alice')])
      .thenThrows('VALIDATION_FAILED', 'combat:ambush has ended; expected it to be active');
  });
});

describe('combat.ended', () => {
  it('ends the combat with its outcome', () => {
    given(withFight)
      .when(ended('goblin fled'))
      .then({ [fight]: { version: 2, state: { status: 'ended', outcome: 'goblin fled', actions: 0 } } });
  });

  it('refuses to end a combat twice', () => {
    given(withFight)
      .when([ended(), ended()])
      .thenThrows('VALIDATION_FAILED', 'combat:ambush has ended; expected it to be active');
  });
});
