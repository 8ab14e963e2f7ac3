import { isCampaignId, isEntityId, kindOf } from './index';

describe('entity ids', () => {
  it.each(['world', 'player:alice', 'worldEvent:fair', 'item:sword-1.b_2', `npc:${'x'.repeat(128)}`])(
    'accepts %s',
    (id) => {
      expect(isEntityId(id)).toBe(true);
    },
  );

  it.each([
    ['world:second', 'a second world'],
    ['Player:alice', 'a kind that is not camelCase'],
    ['player:', 'an empty name'],
    ['player:a b', 'a space'],
    ['player:a:b', 'a second colon'],
    [`npc:${'x'.repeat(129)}`, 'a name over 128 characters'],
    ['alice', 'no kind'],
  ])('refuses %s (%s)', (id) => {
    expect(isEntityId(id)).toBe(false);
  });

  it('reads the kind from the prefix, and the world is a world', () => {
    expect(kindOf('worldEvent:fair')).toBe('worldEvent');
    expect(kindOf('world')).toBe('world');
  });
});

describe('campaign ids', () => {
  it.each(['c1', 'my_campaign-2', 'x'.repeat(64)])('accepts %s', (id) => {
    expect(isCampaignId(id)).toBe(true);
  });

  it.each(['', 'a.b', 'c1.>', 'c*', 'x'.repeat(65), 'spaced id'])(
    'refuses %j, which is unsafe in a subject',
    (id) => {
      expect(isCampaignId(id)).toBe(false);
    },
  );
});
