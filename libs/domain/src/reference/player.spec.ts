import { given, tinyWorld } from '@lorekeeper/testing';

const alice = 'player:alice';
const moved = (regionId: string, entityId = alice) => ({
  type: 'player.moved',
  entityId,
  data: { regionId },
});
const gold = (delta: number, entityId = alice) => ({
  type: 'player.gold.changed',
  entityId,
  data: { delta },
});
const xp = (amount: number) => ({ type: 'player.xp.gained', entityId: alice, data: { amount } });

describe('player.moved', () => {
  it('puts the player in the new region and bumps the version from 0 to 1', () => {
    given(tinyWorld)
      .when(moved('region:hills'))
      .then({ [alice]: { version: 1, state: { regionId: 'region:hills', gold: 10 } } });
  });

  it('may move to a region that is not a neighbour', () => {
    given(tinyWorld)
      .when(moved('region:far'))
      .then({ [alice]: { version: 1, state: { regionId: 'region:far' } } });
  });

  it('refuses a region that does not exist with UNKNOWN_ENTITY naming it', () => {
    given(tinyWorld)
      .when(moved('region:nowhere'))
      .thenThrows('UNKNOWN_ENTITY', /data\.regionId of player\.moved: region:nowhere does not exist/);
  });

  it('refuses a regionId that names another kind as a BAD_REQUEST saying what it got', () => {
    given(tinyWorld)
      .when(moved('npc:goblin'))
      .thenThrows('BAD_REQUEST', /regionId: must be the id of a region, got npc:goblin/);
  });

  it('refuses a player that does not exist with UNKNOWN_ENTITY', () => {
    given(tinyWorld)
      .when(moved('region:hills', 'player:zed'))
      .thenThrows('UNKNOWN_ENTITY', /target of player\.moved: player:zed does not exist/);
  });
});

describe('player.gold.changed', () => {
  it('adds a positive delta', () => {
    given(tinyWorld)
      .when(gold(15))
      .then({ [alice]: { version: 1, state: { gold: 25 } } });
  });

  it('takes gold down to exactly 0', () => {
    given(tinyWorld)
      .when(gold(-10))
      .then({ [alice]: { version: 1, state: { gold: 0 } } });
  });

  it('counts every change in the version', () => {
    given(tinyWorld)
      .when([gold(5), gold(-3), gold(1)])
      .then({ [alice]: { version: 3, state: { gold: 13 } } });
  });

  it('refuses to go below 0 with VALIDATION_FAILED saying what the player has and what would be left', () => {
    given(tinyWorld)
      .when(gold(-11))
      .thenThrows('VALIDATION_FAILED', /player:alice has 10 gold; a change of -11 would leave -1/);
  });

  it('refuses the whole batch when a later change would go below 0', () => {
    given(tinyWorld)
      .when([gold(-5), gold(-6)])
      .thenThrows('VALIDATION_FAILED', /has 5 gold; a change of -6 would leave -1/);
  });

  it('refuses a delta of 0 as a schema error (BAD_REQUEST), not as a domain rule', () => {
    given(tinyWorld)
      .when(gold(0))
      .thenThrows('BAD_REQUEST', /data\.delta: must not be 0/);
  });

  it('refuses a fractional delta as BAD_REQUEST', () => {
    given(tinyWorld)
      .when(gold(1.5))
      .thenThrows('BAD_REQUEST', /data\.delta: .*expected int/);
  });

  it('refuses gold past the safe integer range with VALIDATION_FAILED', () => {
    given(tinyWorld)
      .when(gold(Number.MAX_SAFE_INTEGER))
      .thenThrows('VALIDATION_FAILED', /player:alice gold would exceed 9007199254740991/);
  });
});

describe('player.xp.gained', () => {
  it('adds the amount to xp', () => {
    given(tinyWorld)
      .when([xp(40), xp(2)])
      .then({ [alice]: { version: 2, state: { xp: 42, gold: 10 } } });
  });

  it.each([0, -5])('refuses an amount of %d as BAD_REQUEST', (amount) => {
    given(tinyWorld)
      .when(xp(amount))
      .thenThrows('BAD_REQUEST', /data\.amount: Too small: expected number to be >0/);
  });

  it('refuses xp past the safe integer range with VALIDATION_FAILED', () => {
    given(tinyWorld)
      .when([xp(Number.MAX_SAFE_INTEGER), xp(1)])
      .thenThrows('VALIDATION_FAILED', /player:alice xp would exceed/);
  });
});
