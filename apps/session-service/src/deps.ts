import type { Kysely } from 'kysely';
import type { NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { Config } from '@lorekeeper/config';
import type { DomainRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import type { Redis } from '@lorekeeper/redis-store';
import type { DurabilityWaiter } from './durability';
import type { CampaignGate } from './campaign-gate';
import type { EntityOrder } from './entity-order';
import type { LiveCache } from './live-cache';
import type { LoadedRegions } from './loaded-regions';
import type { SeqFloors } from './seq-floors';
import type { SessionMetrics } from './ops/metrics';

/** Everything a request handler may use; built once in main.ts, handed to NestJS as a value. */
export interface SessionDeps {
  readonly config: Config;
  readonly registry: DomainRegistry;
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  /** Used to publish `campaign.<id>.events`; the NestJS server has its own connection for requests. */
  readonly nats: NatsConnection;
  readonly durability: DurabilityWaiter;
  readonly metrics: SessionMetrics;
  readonly logger: Logger;
  /** Serialises the appends of one campaign inside this process (other instances meet the CAS). */
  readonly appendGate: CampaignGate;
  /** Before the gate, orders appends that touch the same entities (no compare-and-set races). */
  readonly entityOrder: EntityOrder;
  /** Per campaign, the seq below which Redis must not be (see SeqFloors). */
  readonly seqFloors: SeqFloors;
  /** Per campaign session, the regions whose contents this process made live (moves skip them). */
  readonly loadedRegions: LoadedRegions;
  /** Live entities last read or written per campaign session (appends validate against it first). */
  readonly liveCache: LiveCache;
  readonly now: () => Date;
}

export const SESSION_DEPS = Symbol('SESSION_DEPS');
