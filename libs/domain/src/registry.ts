import type { z } from 'zod';

/** Persistent effects reach Postgres; transient ones live in Redis with an expiry and are never exported. */
export type Persistence = 'persistent' | 'transient';

/** What an event does to its entity: brings it into being, changes it, or ends it. */
export type Lifecycle = 'create' | 'update' | 'destroy';

/** An id inside a state or an event's data that must name an existing entity of one of `kinds`. */
export interface Reference {
  readonly field: string;
  readonly id: string;
  readonly kinds: readonly string[];
}

export interface EntityKindDefinition<S = unknown> {
  readonly kind: string;
  readonly persistence: Persistence;
  /** Strict schema of the entity's `state`. */
  readonly state: z.ZodType<S>;
  /** The region the entity stands in (indexed, drives selective loading), if any. */
  readonly regionOf: (state: S) => string | null;
  /** The entity that holds or owns it (an item's holder, a quest's player), if any. */
  readonly ownerOf: (state: S) => string | null;
  /** Ids inside the state that must exist (checked on world documents). */
  readonly references: (state: S) => readonly Reference[];
}

export interface EventDefinition<D = unknown> {
  readonly type: string;
  /** The kind of entity the event's `entityId` must name. */
  readonly entityKind: string;
  readonly lifecycle: Lifecycle;
  readonly persistence: Persistence;
  /** A major event is durable in Postgres before its append replies (DESIGN.md, invariant 6). */
  readonly major: boolean;
  /** Strict schema of the event's `data`. */
  readonly data: z.ZodType<D>;
  /** Ids inside `data` that must exist when the event is appended. */
  readonly references: (data: D) => readonly Reference[];
  /**
   * The pure state transition. `state` is undefined for a `create` event. Throws a VALIDATION_FAILED
   * LorekeeperError when a rule that depends on the entity's own state is broken. For `destroy` the
   * returned value is ignored.
   */
  readonly evolve: (state: unknown, data: D, entityId: string) => unknown;
}

/**
 * The catalogue of entity kinds and event types. The reference domain fills one; a game adds its own
 * kinds and events with `registerKind`/`registerEvent` without touching the engine.
 */
export class DomainRegistry {
  private readonly kinds = new Map<string, EntityKindDefinition>();
  private readonly events = new Map<string, EventDefinition>();

  registerKind<S>(definition: EntityKindDefinition<S>): this {
    if (this.kinds.has(definition.kind))
      throw new Error(`entity kind "${definition.kind}" is already registered`);
    this.kinds.set(definition.kind, definition as EntityKindDefinition);
    return this;
  }

  registerEvent<D>(definition: EventDefinition<D>): this {
    if (this.events.has(definition.type))
      throw new Error(`event type "${definition.type}" is already registered`);
    const kind = this.kinds.get(definition.entityKind);
    if (!kind) {
      throw new Error(`event type "${definition.type}" targets unregistered kind "${definition.entityKind}"`);
    }
    if (kind.persistence !== definition.persistence) {
      throw new Error(
        `event type "${definition.type}" is ${definition.persistence} but kind "${kind.kind}" is ${kind.persistence}`,
      );
    }
    this.events.set(definition.type, definition as EventDefinition);
    return this;
  }

  kind(kind: string): EntityKindDefinition | undefined {
    return this.kinds.get(kind);
  }

  event(type: string): EventDefinition | undefined {
    return this.events.get(type);
  }

  kindNames(): string[] {
    return [...this.kinds.keys()];
  }

  eventTypes(): string[] {
    return [...this.events.keys()];
  }

  /** A copy that a game can extend without changing the original. */
  extend(): DomainRegistry {
    const copy = new DomainRegistry();
    for (const kind of this.kinds.values()) copy.registerKind(kind);
    for (const event of this.events.values()) copy.registerEvent(event);
    return copy;
  }
}
