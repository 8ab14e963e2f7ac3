import { given, tinyWorld } from '@lorekeeper/testing';

// In the tiny world quest:rats is available, quest:relic is active for alice, quest:old is completed.
const started = (entityId: string, playerId = 'player:alice') => ({
  type: 'quest.started',
  entityId,
  data: { playerId },
});
const progressed = (entityId: string, step: number) => ({
  type: 'quest.progressed',
  entityId,
  data: { step },
});
const completed = (entityId: string) => ({ type: 'quest.completed', entityId, data: {} });

describe('quest.started', () => {
  it('makes an available quest active for the player', () => {
    given(tinyWorld)
      .when(started('quest:rats'))
      .then({ 'quest:rats': { version: 1, state: { status: 'active', playerId: 'player:alice', step: 0 } } });
  });

  it.each([
    ['quest:relic', 'active'],
    ['quest:old', 'completed'],
  ])('refuses %s, which is %s, with VALIDATION_FAILED', (questId, status) => {
    given(tinyWorld)
      .when(started(questId))
      .thenThrows('VALIDATION_FAILED', `${questId} is ${status}; only an available quest can start`);
  });

  it('refuses a player that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(started('quest:rats', 'player:zed'))
      .thenThrows('UNKNOWN_ENTITY', /data\.playerId of quest\.started: player:zed does not exist/);
  });

  it('refuses a playerId that names an NPC as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(started('quest:rats', 'npc:goblin'))
      .thenThrows('BAD_REQUEST', /playerId: must be the id of a player, got npc:goblin/);
  });
});

describe('quest.progressed', () => {
  it('moves an active quest to a greater step', () => {
    given(tinyWorld)
      .when([progressed('quest:relic', 1), progressed('quest:relic', 5)])
      .then({ 'quest:relic': { version: 2, state: { status: 'active', step: 5 } } });
  });

  it.each([0, -1])('refuses step %d, which is not greater than the current 0', (step) => {
    given(tinyWorld)
      .when(progressed('quest:relic', step))
      .thenThrows(
        'VALIDATION_FAILED',
        `quest:relic is at step 0; the next step must be greater, got ${step}`,
      );
  });

  it.each([
    ['quest:rats', 'available'],
    ['quest:old', 'completed'],
  ])('refuses %s, which is %s, with VALIDATION_FAILED', (questId, status) => {
    given(tinyWorld)
      .when(progressed(questId, 1))
      .thenThrows('VALIDATION_FAILED', `${questId} is ${status}; expected an active quest`);
  });
});

describe('quest.completed', () => {
  it('completes an active quest and keeps its player', () => {
    given(tinyWorld)
      .when(completed('quest:relic'))
      .then({ 'quest:relic': { version: 1, state: { status: 'completed', playerId: 'player:alice' } } });
  });

  it('completes a quest started in the same batch', () => {
    given(tinyWorld)
      .when([started('quest:rats'), progressed('quest:rats', 1), completed('quest:rats')])
      .then({ 'quest:rats': { version: 3, state: { status: 'completed', step: 1 } } });
  });

  it.each([
    ['quest:rats', 'available'],
    ['quest:old', 'completed'],
  ])('refuses %s, which is %s, with VALIDATION_FAILED', (questId, status) => {
    given(tinyWorld)
      .when(completed(questId))
      .thenThrows('VALIDATION_FAILED', `${questId} is ${status}; expected an active quest`);
  });

  it('refuses a quest that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(completed('quest:ghost'))
      .thenThrows('UNKNOWN_ENTITY', /target of quest\.completed: quest:ghost does not exist/);
  });
});
