import type { Entity } from './entity';
import { decodeEntity, encodeEntity, lazyEntity } from './encoded-entity';

const guard: Entity = {
  id: 'npc:"quoted"',
  kind: 'npc',
  version: 3,
  state: { name: 'Guard', regionId: 'region:vale', hp: 10, status: 'alive' },
};

describe('encoded entities', () => {
  it('writes the JSON JSON.stringify writes', () => {
    expect(encodeEntity(guard)).toEqual({
      id: guard.id,
      kind: 'npc',
      version: 3,
      json: JSON.stringify(guard),
    });
  });

  it('parses the state only when it is read, and once', () => {
    const parse = jest.spyOn(JSON, 'parse');
    try {
      const entity = lazyEntity(encodeEntity(guard));
      expect([entity.id, entity.kind, entity.version]).toEqual([guard.id, 'npc', 3]);
      expect(parse).not.toHaveBeenCalled();
      expect(entity.state).toEqual(guard.state);
      expect(entity.state).toBe(entity.state);
      expect(parse).toHaveBeenCalledTimes(1);
    } finally {
      parse.mockRestore();
    }
  });

  it('serialises like the entity, and decodes to a plain one', () => {
    expect(JSON.parse(JSON.stringify(lazyEntity(encodeEntity(guard))))).toEqual(guard);
    expect(decodeEntity(encodeEntity(guard))).toEqual(guard);
  });
});
