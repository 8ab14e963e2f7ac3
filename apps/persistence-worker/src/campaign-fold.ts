import type { DomainRegistry, Entity } from '@lorekeeper/domain';
import { LorekeeperError, definitionOf, evolve, nextVersion } from '@lorekeeper/domain';
import type { Checkpoint } from '@lorekeeper/pg-store';
import type { StreamEvent, StreamEventWithJson } from '@lorekeeper/redis-store';

/** What one flush writes: the coalesced changes since the checkpoint, and the checkpoint after it. */
export interface FlushBatch {
  readonly from: Checkpoint;
  readonly to: Checkpoint;
  readonly upserts: readonly Entity[];
  readonly deletes: readonly string[];
  /** The persistent events, with their stream JSON where the entry had it (the archive reuses it). */
  readonly events: readonly StreamEventWithJson[];
  /** Stream entries the batch covers (transient events included). */
  readonly entries: number;
  /** Stream bytes the batch covers (for the backlog bound). */
  readonly bytes: number;
}

/**
 * One campaign's state between flushes: the durable state of every entity touched since it was
 * loaded, folded forward with the domain's `evolve`, and the set of entities changed since the last
 * checkpoint. Ten thousand events on one entity leave one dirty entity (DESIGN.md, invariant 4).
 * Folding goes on while a batch is being written: `committed` keeps whatever was folded after the
 * batch was taken.
 */
export class CampaignFold {
  /** Entity id -> current value (null once destroyed); a cache of Postgres plus folded events. */
  private readonly entities = new Map<string, Entity | null>();
  private dirty = new Set<string>();
  private events: StreamEventWithJson[] = [];
  /** Entries folded since the checkpoint. */
  private entries = 0;
  private lastFolded: Checkpoint;
  private bytes = 0;
  private oldestUnflushedAt: number | undefined;
  /** Entries in the last batch taken and not committed yet. */
  private taken = 0;
  /** Counts the times the cache forgot clean entities (see `remember`). */
  private evictions = 0;
  /**
   * Where the archive ends: past the checkpoint after a flush for a major event (see `archiveBatch`),
   * at or behind it otherwise (then `durableEvents` is the checkpoint).
   */
  private archived: Checkpoint;

  constructor(
    readonly campaignId: string,
    private checkpoint: Checkpoint,
    private readonly registry: DomainRegistry,
    /** The campaign's archive position (DurablePosition.archived), when it is past the checkpoint. */
    archived: Checkpoint = checkpoint,
  ) {
    this.lastFolded = checkpoint;
    this.archived = archived;
  }

  /** The entity checkpoint: where the entities in Postgres are, and what the stream is trimmed behind. */
  get durable(): Checkpoint {
    return this.checkpoint;
  }

  /** Everything up to here is durable in Postgres: the checkpoint, or the archive's end past it. */
  get durableEvents(): Checkpoint {
    return this.archived.seq > this.checkpoint.seq ? this.archived : this.checkpoint;
  }

  get head(): Checkpoint {
    return this.lastFolded;
  }

  /** Entries folded since the last batch was taken (the backlog while that batch is written). */
  get sinceBatch(): number {
    return this.entries - this.taken;
  }

  /** Events and bytes folded since the checkpoint, for the backlog bound and lag metrics. */
  get backlog(): { events: number; bytes: number; oldestAt: number | undefined } {
    return { events: this.entries, bytes: this.bytes, oldestAt: this.oldestUnflushedAt };
  }

  /** Ids of persistent entities the next events touch that are not cached yet. */
  missing(events: readonly StreamEvent[]): string[] {
    const ids = new Set<string>();
    for (const event of events) if (this.misses(event)) ids.add(event.entityId);
    return [...ids];
  }

  /**
   * True when the event's entity is persistent and not cached yet. An event of a type the catalogue
   * does not have needs no entity: `fold` finds it poison.
   */
  private misses(event: StreamEvent): boolean {
    return (
      this.registry.event(event.type)?.persistence === 'persistent' && !this.entities.has(event.entityId)
    );
  }

  /** Pass to `remember` with values read from Postgres: taken when the read began. */
  get generation(): number {
    return this.evictions;
  }

  /**
   * Cache durable values; an id asked for but not given does not exist in Postgres. Values read while
   * the cache forgot clean entities are dropped (`generation` moved): one of them may have been
   * folded, flushed and forgotten meanwhile, and the value read would be older than Postgres now.
   * Folding reads such an entity again when it needs it.
   */
  remember(ids: readonly string[], found: readonly Entity[], generation = this.evictions): void {
    if (generation !== this.evictions) return;
    const byId = new Map(found.map((entity) => [entity.id, entity]));
    for (const id of ids) if (!this.entities.has(id)) this.entities.set(id, byId.get(id) ?? null);
  }

  /**
   * Fold one entry. Entries at or below the last one folded were already applied (read again after a
   * restart or a take-over, from the checkpoint on): they are skipped. Returns false, folding nothing,
   * when the event's entity is persistent and not cached: `remember` it and fold the entry again.
   * Throws when the entry does not follow the log or does not apply: the caller treats it as poison.
   */
  fold(event: StreamEventWithJson, bytes: number, now: number): boolean {
    if (event.seq <= this.lastFolded.seq) return true;
    if (event.seq !== this.lastFolded.seq + 1) {
      throw new LorekeeperError(
        'INTERNAL',
        `campaign ${this.campaignId}: expected seq ${this.lastFolded.seq + 1} next in the stream, found ${event.seq}`,
      );
    }
    if (this.isPersistent(event)) {
      // The one lookup of the entity per event: undefined is not cached, null is known not to exist.
      const cached = this.entities.get(event.entityId);
      if (cached === undefined) return false;
      const current = cached ?? undefined;
      if (event.version !== nextVersion(current)) {
        throw new LorekeeperError(
          'INTERNAL',
          `seq ${event.seq} puts ${event.entityId} at version ${event.version}, but it is at ${current?.version ?? 0}`,
        );
      }
      const next = evolve(
        current,
        { type: event.type, entityId: event.entityId, data: event.data },
        this.registry,
      );
      this.entities.set(event.entityId, next);
      this.dirty.add(event.entityId);
      // Folded again after a restart, an event a flush for a major event archived is not archived again.
      if (event.seq > this.archived.seq) this.events.push(event);
    }
    this.entries += 1;
    this.bytes += bytes;
    this.oldestUnflushedAt ??= now;
    this.lastFolded = { seq: event.seq, streamId: event.streamId };
    return true;
  }

  isMajor(event: StreamEvent): boolean {
    return this.registry.event(event.type)?.major ?? false;
  }

  /** True when there is anything to write. */
  get hasWork(): boolean {
    return this.entries > 0;
  }

  /** The changes to write, coalesced: each changed entity once, at its latest value. */
  batch(): FlushBatch {
    const upserts: Entity[] = [];
    const deletes: string[] = [];
    for (const id of this.dirty) {
      const entity = this.entities.get(id);
      if (entity) upserts.push(entity);
      else deletes.push(id);
    }
    this.taken = this.entries;
    return {
      from: this.checkpoint,
      to: this.lastFolded,
      upserts,
      deletes,
      // Copies: folding goes on while the batch is written.
      events: this.events.slice(),
      entries: this.entries,
      bytes: this.bytes,
    };
  }

  /**
   * What a flush for a major event writes (archiveAhead): the persistent events not archived yet, up
   * to the head. No entity: the checkpoint stays where it is.
   */
  archiveBatch(): FlushBatch {
    return {
      from: this.checkpoint,
      to: this.lastFolded,
      upserts: [],
      deletes: [],
      events: this.events.slice(),
      entries: 0,
      bytes: 0,
    };
  }

  /** An archiveBatch is committed: its events are archived, and are left out of every later batch. */
  archivedUpTo(batch: FlushBatch): void {
    if (batch.to.seq > this.archived.seq) this.archived = batch.to;
    this.events = this.events.slice(batch.events.length);
  }

  /** The batch is committed: the checkpoint moves, the dirty set starts again. */
  committed(batch: FlushBatch): void {
    this.checkpoint = batch.to;
    // An entity stays dirty only if it changed again after the batch was taken (new object from evolve).
    const written = new Map<string, Entity | null>([
      ...batch.upserts.map((entity) => [entity.id, entity] as const),
      ...batch.deletes.map((id) => [id, null] as const),
    ]);
    this.dirty = new Set([...this.dirty].filter((id) => written.get(id) !== this.entities.get(id)));
    this.events = this.events.slice(batch.events.length);
    this.entries -= batch.entries;
    this.bytes -= batch.bytes;
    this.taken = 0;
    this.oldestUnflushedAt = this.entries > 0 ? Date.now() : undefined;
    // Keep memory bounded: forget clean entities once the cache grows large; Postgres has them.
    if (this.entities.size > 50_000) {
      for (const id of this.entities.keys()) if (!this.dirty.has(id)) this.entities.delete(id);
      this.evictions += 1;
    }
  }

  private isPersistent(event: StreamEvent): boolean {
    return definitionOf(event, this.registry).persistence === 'persistent';
  }
}
