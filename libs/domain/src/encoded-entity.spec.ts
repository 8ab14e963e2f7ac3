import type { Entity } from './entity';
import { decodeEntity, encodeEntity, encodedEntity, lazyEntity } from './encoded-entity';

const guard: Entity = {
  id: 'npc:"quoted"',
  kind: 'npc',
  version: 3,
  state: { name: 'Guard', regionId: 'region:vale', hp: 10, status: 'alive' },
};

describe('encoded entities', () => {
  it('writes the JSON JSON.stringify writes, from an entity or from its state already as text', () => {
    expect(encodeEntity(guard).json).toBe(JSON.stringify(guard));
    // Postgres prints jsonb with spaces; the text goes in as it is and parses to the same entity.
    const printed = '{"hp": 10, "name": "Guard", "status": "alive", "regionId": "region:vale"}';
    const encoded = encodedEntity(guard.id, guard.kind, guard.version, printed);
    expect(encoded).toMatchObject({ id: guard.id, kind: 'npc', version: 3 });
    expect(JSON.parse(encoded.json)).toEqual(guard);
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
