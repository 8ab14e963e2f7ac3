/**
 * Every Redis key Lorekeeper uses is built here. A campaign's keys share the hash tag `{c:<id>}`, so
 * one Function call can touch them all, on a single Redis or a Cluster (DESIGN.md, invariant 8).
 */
export interface CampaignKeys {
  /** Hash: `id`, `status` (active | closing), `startedAt`. Its id fences every request. */
  readonly session: string;
  /** Stream of committed events; entry ids are `<seq>-0`. */
  readonly events: string;
  /** The campaign's last issued seq. */
  readonly seq: string;
  /** Hash: persistent entity id -> version token ("7", or "d7" once destroyed). */
  readonly versions: string;
  /** Hash: persistent entity id -> entity JSON. */
  readonly entities: string;
  /** Set of transient entity ids (members may have expired; their hashes are the truth). */
  readonly transientIndex: string;
  /** Hash of one transient entity: `v` version token, `e` entity JSON; expires. */
  transient(entityId: string): string;
  /**
   * Hash: idempotency key -> the outcome of the append made with it ("<first seq>\n<record>"). One
   * hash per campaign, so ending the session drops every record with one key; it expires
   * IDEMPOTENCY_TTL after the campaign's last append.
   */
  readonly idempotency: string;
  /** Which worker consumes the campaign's stream, with an expiry (the worker's lease). */
  readonly lease: string;
}

export function campaignKeys(campaignId: string): CampaignKeys {
  const prefix = `lk:{c:${campaignId}}`;
  return {
    session: `${prefix}:session`,
    events: `${prefix}:events`,
    seq: `${prefix}:seq`,
    versions: `${prefix}:versions`,
    entities: `${prefix}:entities`,
    transientIndex: `${prefix}:transient`,
    transient: (entityId) => `${prefix}:t:${entityId}`,
    idempotency: `${prefix}:idempotency`,
    lease: `${prefix}:lease`,
  };
}

/** Campaigns with an active session, for the persistence worker to discover (not hash-tagged). */
export const ACTIVE_CAMPAIGNS_KEY = 'lk:campaigns:active';

/** The pattern matching every key of one campaign (for tools and tests; session end needs no scan). */
export function campaignKeyPattern(campaignId: string): string {
  return `lk:{c:${campaignId}}:*`;
}

/** Live persistence workers (sorted set: worker id -> last heartbeat, ms), for sharing campaigns fairly. */
export const WORKERS_KEY = 'lk:workers';
