import type { EncodedEntity } from '@lorekeeper/domain';
import { decodeEntity } from '@lorekeeper/domain';
import type { LiveEntity } from '@lorekeeper/redis-store';
import { ABSENT, liveToken, versionOfToken } from '@lorekeeper/redis-store';

/**
 * A cached entity. `predicted` marks the result of this process's own commit that is not answered
 * yet, with the JSON that commit writes: an append validated against it sends that JSON along, and
 * its commit holds only if Redis has it (the token alone could be another writer's same version).
 */
export interface CachedEntity extends LiveEntity {
  readonly predicted?: string;
}

/** What Redis answers for a transient entity that does not exist. */
const UNSEEN_TRANSIENT: CachedEntity = { token: ABSENT, entity: undefined, transient: true, bytes: 0 };

/** An entry: as last read or written, or as a session start loaded it (still JSON). */
type Entry = CachedEntity | EncodedEntity;

const isEncoded = (entry: Entry): entry is EncodedEntity => 'json' in entry;
const tokenOf = (entry: Entry): string => (isEncoded(entry) ? liveToken(entry.version) : entry.token);
const bytesOf = (entry: Entry): number => (isEncoded(entry) ? entry.json.length : entry.bytes);

/**
 * The live entities this process last read or wrote, per campaign session, so an append can
 * validate without reading Redis first. Never trusted blindly: the commit compares every entity's
 * token in Redis (compare-and-set), and a batch that loses or fails validation against cached state
 * is prepared again from Redis. What makes a matching token mean matching content:
 *
 * - Entries belong to one session id; a new session (after an end, a Redis loss or a reload) starts
 *   empty, so versions reused by a reload from Postgres never meet old entries.
 * - Every entry was current at a seq no higher than the process's seq floor (reads raise the floor to
 *   the head they saw, commits to their last seq). A Redis that came back behind the floor is caught
 *   by the next commit (`stale`) and the campaign dropped; one that came back at or above it holds
 *   the same history up to there, so an equal token is the same state.
 * - An entry predicted from this process's commit in flight (`predict`) may never come true, and
 *   another instance may reach its version from other content: an append validated against it sends
 *   the predicted JSON along, and the commit checks that too.
 *
 * Bounded by `maxBytes` of entity JSON across campaigns (a parsed entity takes about twice its JSON
 * in the heap): past it the least recently used campaign is dropped. What a session start loaded is
 * kept as the JSON it sent Redis and parsed when an append first looks it up: most of a start's
 * 20,000 regions are never touched in the session.
 */
export class LiveCache {
  private readonly campaigns = new Map<string, { sessionId: string; entities: Map<string, Entry> }>();
  private size = 0;
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /**
   * Every one of `ids` as last seen in this session, or undefined when any is missing. A transient
   * entity this process has not seen is taken as absent: such ids are new ones the game server
   * names to start a fight or a dialogue (a miss would send every such batch to Redis first), and
   * the commit's compare-and-set refuses the guess when another instance created it meanwhile.
   */
  lookup(
    campaignId: string,
    sessionId: string,
    ids: readonly string[],
    isTransient: (id: string) => boolean = () => false,
  ): Map<string, CachedEntity> | undefined {
    const entry = this.campaigns.get(campaignId);
    if (entry?.sessionId !== sessionId) return undefined;
    const found = new Map<string, CachedEntity>();
    for (const id of ids) {
      const known = entry.entities.get(id);
      if (known === undefined && !isTransient(id)) return undefined;
      let live = known ?? UNSEEN_TRANSIENT;
      if (isEncoded(live)) {
        live = {
          token: liveToken(live.version),
          entity: decodeEntity(live),
          transient: false,
          bytes: live.json.length,
        };
        entry.entities.set(id, live);
      }
      found.set(id, live);
    }
    // Most recently used last.
    this.campaigns.delete(campaignId);
    this.campaigns.set(campaignId, entry);
    return found;
  }

  /**
   * Remember entities read or written in the session. Absent entities are not kept (they may be
   * loaded from Postgres at any time), and an entry never goes back to an older version.
   */
  remember(campaignId: string, sessionId: string, entities: Iterable<readonly [string, LiveEntity]>): void {
    this.keep(campaignId, sessionId, entities);
  }

  /**
   * Remember what a commit about to be sent writes, before Redis answers, so the next append on
   * these entities can validate against it and be sent right behind it on the same connection
   * (Redis runs them in that order). `confirm` once the commit holds; `forgetEntity` each otherwise.
   */
  predict(campaignId: string, sessionId: string, entities: Iterable<readonly [string, CachedEntity]>): void {
    this.keep(campaignId, sessionId, entities);
  }

  /** The commit that wrote `token` for the entity holds: its entry (if still that one) is plain fact now. */
  confirm(campaignId: string, entityId: string, token: string): void {
    const entities = this.campaigns.get(campaignId)?.entities;
    const known = entities?.get(entityId);
    if (!entities || !known || isEncoded(known) || known.token !== token || known.predicted === undefined)
      return;
    entities.set(entityId, {
      token: known.token,
      entity: known.entity,
      transient: known.transient,
      bytes: known.bytes,
    });
  }

  /** Remember entities a session start loaded, as the JSON it sent Redis (parsed on first lookup). */
  rememberLoaded(campaignId: string, sessionId: string, entities: readonly EncodedEntity[]): void {
    this.keep(
      campaignId,
      sessionId,
      entities.map((entity) => [entity.id, entity]),
    );
  }

  private keep(campaignId: string, sessionId: string, entities: Iterable<readonly [string, Entry]>): void {
    if (this.maxBytes === 0) return;
    let entry = this.campaigns.get(campaignId);
    if (entry?.sessionId !== sessionId) {
      this.forget(campaignId);
      entry = { sessionId, entities: new Map() };
      this.campaigns.set(campaignId, entry);
    }
    for (const [id, live] of entities) {
      const token = tokenOf(live);
      if (token === '') continue;
      const known = entry.entities.get(id);
      if (known === undefined) this.size += 1;
      else if (versionOfToken(tokenOf(known)) > versionOfToken(token)) continue;
      this.bytes += bytesOf(live) - (known === undefined ? 0 : bytesOf(known));
      entry.entities.set(id, live);
    }
    while (this.bytes > this.maxBytes) {
      const oldest = this.campaigns.keys().next().value as string;
      this.forget(oldest);
    }
  }

  /** Drop one entity (its compare-and-set failed: someone else changed it). */
  forgetEntity(campaignId: string, entityId: string): void {
    const entities = this.campaigns.get(campaignId)?.entities;
    const known = entities?.get(entityId);
    if (!entities || !known) return;
    entities.delete(entityId);
    this.size -= 1;
    this.bytes -= bytesOf(known);
  }

  forget(campaignId: string): void {
    const entry = this.campaigns.get(campaignId);
    if (!entry) return;
    this.size -= entry.entities.size;
    for (const live of entry.entities.values()) this.bytes -= bytesOf(live);
    this.campaigns.delete(campaignId);
  }

  /** The bound on entity JSON bytes held. */
  get capacity(): number {
    return this.maxBytes;
  }

  /** Entries held, across campaigns (for tests and metrics). */
  get entities(): number {
    return this.size;
  }

  /** Their JSON bytes, across campaigns. */
  get jsonBytes(): number {
    return this.bytes;
  }
}
