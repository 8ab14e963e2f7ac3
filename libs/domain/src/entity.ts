/** An entity as it travels: in replies, world documents, Redis and Postgres (PROTOCOL.md, "Entity"). */
export interface Entity<S = unknown> {
  readonly id: string;
  readonly kind: string;
  /** How many events have been applied to it; 0 for an entity that came from a world document. */
  readonly version: number;
  readonly state: S;
}

/** An event as a game server submits it in an append (PROTOCOL.md, "Event"). */
export interface DomainEvent<D = unknown> {
  readonly type: string;
  readonly entityId: string;
  readonly data: D;
  readonly expectedVersion?: number;
}

/** Facts the session service attaches to every event it commits. */
export interface EventMeta {
  readonly sessionId: string;
  readonly batchId: string;
  readonly correlationId?: string;
  /** ISO-8601 time the batch was committed; the clock is read at the edge, never in the domain. */
  readonly at: string;
}

/** An event as it sits in the log: numbered, versioned, with its metadata. */
export interface RecordedEvent<D = unknown> extends DomainEvent<D> {
  /** Position in the campaign's log, from 1, never repeated. */
  readonly seq: number;
  /** The entity's version after this event. */
  readonly version: number;
  readonly meta: EventMeta;
}

/** Look up an entity by id; the caller decides where from (Redis, Postgres, a map in a test). */
export type Lookup = (entityId: string) => Entity | undefined;
