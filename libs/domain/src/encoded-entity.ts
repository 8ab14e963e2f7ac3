import type { Entity } from './entity';

/**
 * An entity as its JSON text, the form Redis holds it in, with the fields a loader decides on beside
 * it. A session start makes tens of thousands of entities live and needs the state of only a few:
 * moving them as text spares parsing each state and serialising it again (and the garbage of both).
 */
export interface EncodedEntity {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  /** `{"id","kind","version","state"}`, as JSON.parse turns back into the Entity. */
  readonly json: string;
}

export function encodeEntity(entity: Entity): EncodedEntity {
  return { id: entity.id, kind: entity.kind, version: entity.version, json: JSON.stringify(entity) };
}

export function decodeEntity(encoded: EncodedEntity): Entity {
  return JSON.parse(encoded.json) as Entity;
}

/**
 * An encoded entity read as an Entity, its state parsed the first time it is read: a rule that
 * decides most entities by kind or id never parses them. A view to decide on, not a value to keep:
 * its state is a getter, which spreading leaves out (decodeEntity gives a plain Entity).
 */
export function lazyEntity(encoded: EncodedEntity): Entity {
  return new LazyEntity(encoded);
}

const UNPARSED: unique symbol = Symbol('unparsed');

class LazyEntity implements Entity {
  readonly id: string;
  readonly kind: string;
  readonly version: number;
  readonly #encoded: EncodedEntity;
  #state: unknown = UNPARSED;

  constructor(encoded: EncodedEntity) {
    this.#encoded = encoded;
    this.id = encoded.id;
    this.kind = encoded.kind;
    this.version = encoded.version;
  }

  get state(): unknown {
    if (this.#state === UNPARSED) this.#state = decodeEntity(this.#encoded).state;
    return this.#state;
  }

  toJSON(): Entity {
    return { id: this.id, kind: this.kind, version: this.version, state: this.state };
  }
}
