import { given, tinyWorld } from '@lorekeeper/testing';

const goblin = 'npc:goblin';
const spawned = (entityId: string, regionId = 'region:vale', hp = 12) => ({
  type: 'npc.spawned',
  entityId,
  data: { name: 'Wolf', regionId, hp },
});
const damaged = (amount: number) => ({ type: 'npc.damaged', entityId: goblin, data: { amount } });
const defeated = (byId: string, entityId = goblin) => ({ type: 'npc.defeated', entityId, data: { byId } });

describe('npc.spawned', () => {
  it('creates an alive NPC at version 1', () => {
    given(tinyWorld)
      .when(spawned('npc:wolf'))
      .then({
        'npc:wolf': {
          kind: 'npc',
          version: 1,
          state: { name: 'Wolf', regionId: 'region:vale', hp: 12, status: 'alive' },
        },
      });
  });

  it('refuses an id that already exists with VALIDATION_FAILED', () => {
    given(tinyWorld)
      .when(spawned(goblin))
      .thenThrows('VALIDATION_FAILED', /npc\.spawned creates npc:goblin, but it already exists/);
  });

  it('refuses a region that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(spawned('npc:wolf', 'region:nowhere'))
      .thenThrows('UNKNOWN_ENTITY', /data\.regionId of npc\.spawned: region:nowhere does not exist/);
  });

  it('refuses hp 0 as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(spawned('npc:wolf', 'region:vale', 0))
      .thenThrows('BAD_REQUEST', /data\.hp: Too small/);
  });
});

describe('npc.damaged', () => {
  it('takes the amount off hp', () => {
    given(tinyWorld)
      .when(damaged(4))
      .then({ [goblin]: { version: 1, state: { hp: 6, status: 'alive' } } });
  });

  it('stops hp at 0 rather than going negative', () => {
    given(tinyWorld)
      .when([damaged(7), damaged(7)])
      .then({ [goblin]: { version: 2, state: { hp: 0 } } });
  });

  it('refuses an amount of 0 as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(damaged(0))
      .thenThrows('BAD_REQUEST', /data\.amount/);
  });
});

describe('npc.defeated', () => {
  it.each(['player:alice', 'npc:troll'])('marks the NPC defeated with hp 0 when %s defeats it', (byId) => {
    given(tinyWorld)
      .when(defeated(byId))
      .then({ [goblin]: { version: 1, state: { hp: 0, status: 'defeated', name: 'Goblin' } } });
  });

  it('refuses a victor that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(defeated('player:zed'))
      .thenThrows('UNKNOWN_ENTITY', /data\.byId of npc\.defeated: player:zed does not exist/);
  });

  it('refuses an NPC that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(defeated('player:alice', 'npc:ghost'))
      .thenThrows('UNKNOWN_ENTITY', /target of npc\.defeated: npc:ghost does not exist/);
  });
});
