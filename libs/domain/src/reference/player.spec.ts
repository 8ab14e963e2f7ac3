import { given, tinyWorld } from '@lorekeeper/testing';

describe('player events', () => {
  it('moves a player', () => {
    given(tinyWorld)
      .when({ type: 'player.moved', entityId: 'player:alice', data: { regionId: 'region:hills' } })
      .then({ 'player:alice': { version: 1, state: { regionId: 'region:hills' } } });
  });
});
