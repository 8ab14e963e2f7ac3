import type { Entity } from '../index';
import { MAX_DIALOGUE_CHOICES } from '../index';
import { given, tinyWorld } from '@lorekeeper/testing';

const talk = 'dialogue:greeting';
const open: Entity = {
  id: talk,
  kind: 'dialogue',
  version: 1,
  state: { npcId: 'npc:goblin', playerId: 'player:alice', status: 'active', choices: [] },
};
const withTalk = [...tinyWorld.entities, open];

const started = (npcId: string, playerId = 'player:alice') => ({
  type: 'dialogue.started',
  entityId: talk,
  data: { npcId, playerId },
});
const choice = (choiceId: string) => ({ type: 'dialogue.choice', entityId: talk, data: { choiceId } });
const ended = () => ({ type: 'dialogue.ended', entityId: talk, data: {} });

describe('dialogue.started', () => {
  it('creates an active dialogue at version 1 with no choices', () => {
    given(tinyWorld).when(started('npc:goblin')).then([open]);
  });

  it('refuses an NPC that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(started('npc:ghost'))
      .thenThrows('UNKNOWN_ENTITY', 'data.npcId of dialogue.started: npc:ghost does not exist');
  });

  it('refuses an npcId that names a player as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(started('player:bob'))
      .thenThrows('BAD_REQUEST', 'npcId: must be the id of a npc, got player:bob');
  });
});

describe('dialogue.choice', () => {
  it('appends each choice in order', () => {
    given(withTalk)
      .when([choice('ask-name'), choice('offer-gold')])
      .then({ [talk]: { version: 3, state: { status: 'active', choices: ['ask-name', 'offer-gold'] } } });
  });

  it('refuses a choice after the dialogue ended with VALIDATION_FAILED', () => {
    given(withTalk)
      .when([ended(), choice('ask-name')])
      .thenThrows('VALIDATION_FAILED', 'dialogue:greeting has ended; expected it to be active');
  });

  it(`refuses more than ${MAX_DIALOGUE_CHOICES} choices, so a transient entity stays bounded`, () => {
    const full: Entity = {
      ...open,
      state: {
        ...(open.state as object),
        choices: Array.from({ length: MAX_DIALOGUE_CHOICES }, () => 'hmm'),
      },
    };
    given([...tinyWorld.entities, full])
      .when(choice('one-more'))
      .thenThrows('VALIDATION_FAILED', `dialogue:greeting already has ${MAX_DIALOGUE_CHOICES} choices`);
  });
});

describe('dialogue.ended', () => {
  it('ends the dialogue and keeps its choices', () => {
    given(withTalk)
      .when([choice('bye'), ended()])
      .then({ [talk]: { version: 3, state: { status: 'ended', choices: ['bye'] } } });
  });

  it('refuses to end a dialogue twice', () => {
    given(withTalk).when([ended(), ended()]).thenThrows('VALIDATION_FAILED', 'dialogue:greeting has ended');
  });
});
