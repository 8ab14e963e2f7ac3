import { randomUUID } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { LorekeeperClient, Requests } from '@lorekeeper/client';
import type { Entity, WorldDocument } from '@lorekeeper/domain';
import { isLorekeeperError, referenceRegistry } from '@lorekeeper/domain';
import type { Database } from '@lorekeeper/pg-store';
import {
  createCampaignFromWorld,
  insertCampaign,
  insertEntities,
  readCheckpoint,
} from '@lorekeeper/pg-store';
import { flushRequestSubject } from '@lorekeeper/protocol';
import type { Redis } from '@lorekeeper/redis-store';
import { campaignKeys } from '@lorekeeper/redis-store';
import { waitUntil } from '@lorekeeper/testing';
import type { Kysely } from 'kysely';
import { ceilingAppend, ceilingKeys } from './ceiling';
import { ECHO_SUBJECT } from './echo-wire';
import type { Emmett, EmmettEvent } from './emmett';
import {
  lorekeeperRowsWritten,
  lorekeeperSnapshotRowsWritten,
  snapshotsBeingCopied,
  writeThroughRowsWritten,
} from './pg-writes';
import type { Outcome, Send } from './open-loop';
import type { RedisFootprint } from './redis-footprint';
import { campaignFootprint, hashFootprint } from './redis-footprint';
import type { BenchEvent } from './workload';
import { createWriteThroughLog, writeThrough } from './write-through';

/** A contender made ready for one scenario: a fresh campaign (or keys) of its own. */
export interface Prepared {
  readonly send: Send;
  /** What the contender now holds for an entity, to correct the load generator after a refusal. */
  readonly fetch: (entityId: string) => Promise<Entity | undefined>;
  /** Wait until everything acknowledged has reached its durable store (the worker's checkpoint). */
  readonly settle: () => Promise<void>;
  /** Postgres rows written for this contender's campaign so far. */
  readonly rowsWritten: () => Promise<number>;
  /** Of those, the rows of replay snapshots; absent where there are none. */
  readonly snapshotRowsWritten?: () => Promise<number>;
  /** What it keeps in Redis for this campaign now; absent for a contender that does not use Redis. */
  readonly redisFootprint?: () => Promise<RedisFootprint>;
  /** Appends it retried after a version conflict so far (Emmett's optimistic concurrency). */
  readonly retries?: () => number;
  /** The session service's LiveCache lookups so far (its /metrics); absent for other contenders. */
  readonly cacheLookups?: () => Promise<CacheLookups>;
  readonly cleanup: () => Promise<void>;
}

export interface Contender {
  /** For `--only`. */
  readonly key: string;
  readonly name: string;
  readonly batch: number;
  /** What its acknowledgement promises (the issue asks this of every contender). */
  readonly acknowledgement: string;
  prepare(world: WorldDocument, players: readonly string[]): Promise<Prepared>;
}

/** Appends validated against the session service's LiveCache, or against Redis first (docs/deploy.md). */
export interface CacheLookups {
  readonly hit: number;
  readonly miss: number;
  readonly stale: number;
}

export interface Stores {
  readonly nats: NatsConnection;
  readonly redis: Redis;
  readonly db: Kysely<Database>;
  /** A pool of 8 connections: the write-through contender's 8 concurrent clients. */
  readonly writeThroughDb: Kysely<Database>;
  /** The session service's /metrics. */
  readonly sessionMetricsUrl?: string;
}

const wire = (events: readonly BenchEvent[]) =>
  events.map(({ type, entityId, data }) => ({ type, entityId, data }));

const applied: Outcome = { ok: true };

export function lorekeeper(stores: Stores, batch: number): Contender {
  // One attempt: a retry would hide a timeout inside a slow success.
  const client = new LorekeeperClient(stores.nats, { timeoutMs: 30_000, appendAttempts: 1 });
  return {
    key: `lorekeeper-${batch}`,
    name: `Lorekeeper via NATS, ${batch} event${batch === 1 ? '' : 's'}/request`,
    batch,
    acknowledgement:
      'live in Redis (AOF everysec: about 1 s at risk); a batch with a major event (quest.completed) replies after the worker committed it to Postgres',
    async prepare(world, players) {
      // Written as `lorekeeper world import` writes a world document: the game mix's world is larger
      // than a NATS request may be (1 MB), and creating it is not what is measured.
      await stores.db
        .transaction()
        .execute((trx) =>
          createCampaignFromWorld(trx, { id: world.campaignId, name: world.name }, world.entities),
        );
      const { sessionId } = await client.startSession(world.campaignId, players);
      return {
        send: async (events) => {
          try {
            await client.append(world.campaignId, sessionId, wire(events));
            return applied;
          } catch (error) {
            if (isLorekeeperError(error) && error.code !== 'UNAVAILABLE')
              return { ok: false, code: error.code };
            throw error;
          }
        },
        fetch: (entityId) => client.getEntity(world.campaignId, entityId).catch(() => undefined),
        settle: () => checkpointReachesHead(stores, world.campaignId),
        rowsWritten: () => lorekeeperRowsWritten(stores.db, world.campaignId),
        snapshotRowsWritten: () => lorekeeperSnapshotRowsWritten(stores.db, world.campaignId),
        redisFootprint: () => campaignFootprint(stores.redis, world.campaignId),
        ...(stores.sessionMetricsUrl
          ? { cacheLookups: () => scrapeCacheLookups(stores.sessionMetricsUrl!) }
          : {}),
        cleanup: async () => {
          await client.endSession(world.campaignId, sessionId);
          // The worker finishes a replay snapshot it was copying after the session ends (docs/replay.md):
          // the next contender must not share Postgres with it.
          await waitUntil(
            async () => (await snapshotsBeingCopied(stores.db, world.campaignId)) === 0,
            600_000,
            `the worker's replay snapshot of ${world.campaignId} to be copied`,
          );
        },
      };
    },
  };
}

async function scrapeCacheLookups(url: string): Promise<CacheLookups> {
  const text = await (await fetch(url)).text();
  const count = (outcome: string) =>
    Number(
      new RegExp(`^lorekeeper_live_cache_lookups_total\\{outcome="${outcome}"\\} (\\d+)$`, 'm').exec(
        text,
      )?.[1] ?? 0,
    );
  return { hit: count('hit'), miss: count('miss'), stale: count('stale') };
}

/** Ask the worker to flush until its Postgres checkpoint reaches the campaign's last seq. */
async function checkpointReachesHead(stores: Stores, campaignId: string): Promise<void> {
  const head = Number((await stores.redis.get(campaignKeys(campaignId).seq)) ?? 0);
  const subject = flushRequestSubject(campaignId);
  await waitUntil(
    async () => {
      stores.nats.publish(subject, JSON.stringify({ campaignId, trigger: 'manual' }));
      return (await readCheckpoint(stores.db, campaignId)).seq >= head;
    },
    120_000,
    `the worker to checkpoint ${campaignId} up to seq ${head}`,
  );
}

export function ceiling(stores: Stores, batch: number): Contender {
  return {
    key: `ceiling-${batch}`,
    name: `raw Redis Function XADD+HSET, ${batch} event${batch === 1 ? '' : 's'}/call`,
    batch,
    acknowledgement: 'in Redis memory only (AOF everysec at best); no checks of any kind',
    async prepare(world) {
      const keys = ceilingKeys(`${world.campaignId}-${batch}`);
      return {
        send: async (events) => {
          await ceilingAppend(stores.redis, keys, events);
          return applied;
        },
        fetch: async () => undefined,
        settle: async () => undefined,
        rowsWritten: async () => 0,
        redisFootprint: () => hashFootprint(stores.redis, keys.hash, [keys.stream]),
        cleanup: async () => {
          await stores.redis.unlink(keys.stream, keys.hash);
        },
      };
    },
  };
}

export function echo(stores: Stores): Contender {
  return {
    key: 'echo',
    name: 'bare NestJS NATS echo, 1 event/request',
    batch: 1,
    acknowledgement: 'nothing is stored',
    async prepare() {
      return {
        // The body the client's append sends (with a fresh idempotency key), inside NestJS's own request
        // envelope: its stock NATS transport treats a message without an id as an event and never replies.
        send: async (events) => {
          const body = { sessionId: 'echo', events: wire(events), idempotencyKey: randomUUID() };
          const envelope = JSON.stringify({ pattern: ECHO_SUBJECT, data: body, id: randomUUID() });
          // The request path LorekeeperClient takes, so both pay the same client cost.
          const reply = await Requests.of(stores.nats).request(ECHO_SUBJECT, envelope, 30_000);
          JSON.parse(reply.string());
          return applied;
        },
        fetch: async () => undefined,
        settle: async () => undefined,
        rowsWritten: async () => 0,
        cleanup: async () => undefined,
      };
    },
  };
}

export function naiveWriteThrough(stores: Stores): Contender {
  return {
    key: 'write-through',
    name: 'write-through to Postgres, 1 transaction/event',
    batch: 1,
    acknowledgement: 'durable (committed to Postgres before the reply)',
    async prepare(world) {
      const campaignId = `${world.campaignId}-wt`;
      await createWriteThroughLog(stores.db);
      await stores.db.transaction().execute(async (trx) => {
        await insertCampaign(trx, { id: campaignId, name: campaignId });
        await insertEntities(trx, campaignId, world.entities);
      });
      let seq = 0;
      return {
        send: async (events) => {
          for (const event of events) {
            try {
              await writeThrough(stores.writeThroughDb, campaignId, (seq += 1), event);
            } catch (error) {
              if (isLorekeeperError(error)) return { ok: false, code: error.code };
              throw error;
            }
          }
          return applied;
        },
        fetch: async (entityId) => {
          const row = await stores.db
            .selectFrom('entities')
            .select(['id', 'kind', 'version', 'state'])
            .where('campaign_id', '=', campaignId)
            .where('id', '=', entityId)
            .executeTakeFirst();
          return row ? { id: row.id, kind: row.kind, version: row.version, state: row.state } : undefined;
        },
        settle: async () => undefined,
        rowsWritten: () => writeThroughRowsWritten(stores.db, campaignId),
        cleanup: async () => undefined,
      };
    },
  };
}

/** Where the Emmett contenders write: a database of their own, apart from Lorekeeper's. */
export interface EmmettTarget {
  readonly emmett: Emmett;
  readonly url: string;
}

/** By key, so a report can name them when Emmett could not be installed. */
export const EMMETT_NAMES: Readonly<Record<string, string>> = {
  'emmett-log': 'Emmett PostgreSQL appendToStream, log only',
  'emmett-projected': 'Emmett with an inline projection keeping entity state current',
};

const EMMETT_CLIENTS = 8;
const EMMETT_MAX_ATTEMPTS = 50;

/**
 * Emmett's PostgreSQL event store as bench/emmett/run.js drives it: one `appendToStream` per event,
 * a stream per entity, 8 pooled connections (write-through's 8 clients), and a version conflict
 * (which Emmett throws under concurrency even without an expected version) retried. With
 * `projection`, an inline raw-SQL projection keeps each entity's state current in the append's
 * transaction. It writes the state the load generator computed with Lorekeeper's own `evolve`,
 * carried in the event's metadata: one upsert per event, the cheapest projection Emmett allows (one
 * that read and folded the entity, as a Pongo projection does, would cost more).
 */
export function emmettAppend(target: EmmettTarget, projection: boolean): Contender {
  const { emmett, url } = target;
  return {
    key: projection ? 'emmett-projected' : 'emmett-log',
    name: EMMETT_NAMES[projection ? 'emmett-projected' : 'emmett-log']!,
    batch: 1,
    acknowledgement: projection
      ? "durable: the event and the entity's new state committed to Postgres in one transaction before the reply, for every event (major or not); the event is not validated"
      : 'durable: the event committed to Postgres before the reply, for every event (major or not); no entity state is kept and the event is not validated',
    async prepare(world) {
      const pool = emmett.newPool(url, EMMETT_CLIENTS);
      const store = emmett.getPostgreSQLEventStore(url, {
        connectionOptions: { pooled: true, pool },
        ...(projection ? { projections: emmett.projections.inline([entityProjection(emmett)]) } : {}),
      });
      const prefix = `${world.campaignId}-${projection ? 'projected' : 'log'}:`;
      let retries = 0;
      const append = async (streamName: string, event: EmmettEvent) => {
        for (let attempt = 1; ; attempt += 1) {
          try {
            await store.appendToStream(streamName, [event]);
            return;
          } catch (error) {
            if (attempt >= EMMETT_MAX_ATTEMPTS || !emmett.isExpectedVersionConflictError(error)) throw error;
            retries += 1;
          }
        }
      };
      // The first append of a store creates Emmett's schema (and the projection's table): not timed.
      await append(`${prefix}warm-up`, {
        type: 'world.flag.set',
        data: {},
        metadata: { campaignId: world.campaignId, entityId: 'warm-up', state: null },
      });
      return {
        send: async (events) => {
          for (const { type, entityId, data, entity } of events) {
            const metadata = { campaignId: world.campaignId, entityId, state: entity };
            await append(`${prefix}${entityId}`, { type, data, metadata });
          }
          return applied;
        },
        // Emmett refuses nothing (it does not validate), so the generator never needs correcting.
        fetch: async () => undefined,
        settle: async () => undefined,
        rowsWritten: async () => {
          // Per event: its message row and its stream's position (an insert or an update), and with
          // the projection the entity's row; counted from the messages, like write-through's rows.
          const { rows } = await pool.query(
            'select count(*) as n from emt_messages where left(stream_id, length($1)) = $1',
            [prefix],
          );
          return Number(rows[0]?.['n'] ?? 0) * (projection ? 3 : 2);
        },
        retries: () => retries,
        cleanup: async () => {
          await store.close();
          await pool.end().catch(() => undefined);
        },
      };
    },
  };
}

/** The entity's state after the event, as the load generator folded it; a destroyed entity is deleted. */
function entityProjection(emmett: Emmett): unknown {
  const { SQL } = emmett;
  return emmett.postgreSQLRawSQLProjection({
    name: 'bench_entities',
    canHandle: referenceRegistry.eventTypes(),
    init: () =>
      SQL`CREATE TABLE IF NOT EXISTS bench_entities (campaign_id text NOT NULL, id text NOT NULL, kind text NOT NULL,
            version integer NOT NULL, state jsonb NOT NULL, PRIMARY KEY (campaign_id, id))`,
    evolve: ({ metadata }) => {
      const entity = metadata['state'] as Entity | null;
      const campaignId = String(metadata['campaignId']);
      if (!entity)
        return SQL`DELETE FROM bench_entities WHERE campaign_id = ${campaignId} AND id = ${String(metadata['entityId'])}`;
      // A retried append can land after a later event of the same entity: keep the newest version.
      return SQL`INSERT INTO bench_entities (campaign_id, id, kind, version, state)
                 VALUES (${campaignId}, ${entity.id}, ${entity.kind}, ${entity.version}, ${JSON.stringify(entity.state)}::jsonb)
                 ON CONFLICT (campaign_id, id) DO UPDATE SET version = EXCLUDED.version, state = EXCLUDED.state
                 WHERE bench_entities.version < EXCLUDED.version`;
    },
  });
}
